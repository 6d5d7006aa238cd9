// Package queries holds lambdastack's named Athena queries, one .sql file
// each, embedded in the binary. The same files become Athena named queries
// (the CDK app), run on Athena (lambdastack query NAME) and run on DuckDB
// over local views in tests and the demo (lambdastack query NAME --local).
//
// Each file starts with header comments:
//
//	-- name: events_per_hour
//	-- description: Events per hour by event type and layer, from the merged view.
//
// Queries use Athena's dialect (Trino) in the subset DuckDB also runs, and
// name tables without a database (merged_view, errors, raw_events): the
// Athena workgroup's query context supplies the database.
package queries
