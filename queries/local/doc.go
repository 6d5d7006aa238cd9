// Package local runs lambdastack's named queries on DuckDB (embedded, cgo)
// over local directories laid out as the raw and views buckets are: it
// creates one DuckDB view per Glue table (raw_events, errors, batch_view,
// speed_view, merged_view, users_view), with the columns and types of package glue and
// the partition keys taken from each file's path as Athena's partition
// projection does, then runs queries.Query values with bound parameters.
//
// It is for the demo, for `lambdastack query --local` and for tests that
// check the Athena SQL against Go aggregates. It is not for Lambda: it links
// DuckDB, so only cmd/lambdastack and tests import it.
package local
