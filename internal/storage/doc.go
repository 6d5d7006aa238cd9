// Package storage is the object storage the pipeline reads and writes: one
// small interface (Store) with a local-directory and an S3 implementation,
// chosen by a location string (a directory path or s3://bucket/prefix), and
// an atomic publish of a set of objects through a manifest written last.
//
// It is not a general file system: keys are slash-separated object names,
// there are no directories to create, and listing is by prefix.
package storage
