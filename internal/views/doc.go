// Package views reads and writes the view rows of DESIGN.md (batch, speed
// and merged) and of the users view as snappy Parquet, with schemas derived
// from the table definitions in package glue, converts between rows and the
// mergeable aggregates of package agg, and rolls merged rows up into users
// view rows (UserRollup: distinct users over event types and sources).
//
// It reads only files written by this package (or by engines that keep the
// same column names and types); raw events are read by the batch package.
package views
