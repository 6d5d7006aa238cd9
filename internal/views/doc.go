// Package views reads and writes the view rows of DESIGN.md (batch, speed
// and merged) as snappy Parquet, with schemas derived from the table
// definitions in package glue, and converts between rows and the mergeable
// aggregates of package agg.
//
// It reads only files written by this package (or by engines that keep the
// same column names and types); raw events are read by the batch package.
package views
