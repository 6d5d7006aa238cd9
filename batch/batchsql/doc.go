// Package batchsql is the sql batch engine: the batch view's one SQL
// definition (batch.HourSQL, Trino dialect) run on embedded DuckDB, hour by
// hour, over raw events in a local directory or on S3.
//
// The hour's raw objects are loaded into a DuckDB table raw_events with
// the raw columns: Parquet files by DuckDB's reader (any engine's layout;
// a missing optional column reads as NULL), NDJSON lines through the event
// package's parser, which owns the rules for that encoding (a line it
// rejects is counted under its reason and never reaches the table). The
// statement then applies the Parquet reader's verdicts, deduplicates and
// aggregates; the Trino HyperLogLog forms become duckhll's functions and
// the three Trino functions DuckDB spells otherwise are bridged
// (to_utf8, regexp_like, is_finite), so the statement text is the one
// Athena runs.
//
// It links DuckDB (cgo): the command line uses it, no Lambda binary does
// (the batch Lambda has the go and athena engines only).
package batchsql
