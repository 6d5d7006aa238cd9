// Package queries holds the Athena SQL of lambdastack, embedded from the
// *.sql files of this directory: the named queries the stack creates in its
// Athena workgroup and that data engineers and QuickSight use.
//
// It only carries SQL text; running queries is the job of the command line.
package queries
