// Package eventpaths holds no code: its test feeds one corpus of valid and
// invalid events through every path that reads events (event.Validate, the
// Firehose transform, the speed handler, the batch layer's NDJSON reader and
// both of its Parquet readers, with files written by arrow and by DuckDB,
// and the sql batch engine on NDJSON and Parquet) and requires the verdict and reason of internal/event everywhere. A new
// path is one entry in the test's paths table. It is a package of its own so
// that DuckDB links only into this test.
package eventpaths
