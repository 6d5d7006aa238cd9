// Package queries holds lambdastack's named Athena queries, one .sql file
// each, embedded in the binary. The same files become Athena named queries
// (the CDK app), run on Athena (lambdastack query NAME) and run on DuckDB
// over local views in tests and the demo (lambdastack query NAME --local,
// package queries/local).
//
// Each file starts with header comments:
//
//	-- name: top_event_types
//	-- description: The ten event types with the most events in the 24 hours before now.
//	-- param: now timestamp end of the 24 hours, UTC (default: the current time)
//
// Queries use Athena's dialect (Trino) in the subset DuckDB also runs, and
// name tables without a database (merged_view, users_view, errors,
// raw_events): the Athena workgroup's query context supplies the database.
//
// # Parameters
//
// A query takes parameters through positional ? placeholders, declared by
// "-- param: NAME TYPE description" headers in placeholder order (a value
// needed twice is bound once in a WITH params AS (SELECT ? AS …) clause, or,
// where a dt bound needs it as a literal for Athena's partition pruning,
// repeated by a "-- param: NAME" header with the name alone).
// Values never reach the SQL text unchecked: Query.Bind validates each value
// against its type (timestamp, dt, hour, int, choice:a|b; see the Type constants) and
// renders it as one SQL literal. Athena gets the SQL with ? unchanged and
// the literals as the StartQueryExecution ExecutionParameters (Athena
// substitutes them); DuckDB binds the same values as driver arguments. The
// Athena console prompts for the ? of a named query. Substitute gives the
// statement Athena ends up running, and the tests run it on DuckDB too.
// A timestamp parameter left out means now, so a query relative to the
// current time can be pinned to a fixed time in tests.
//
// A header "-- param: NAME TYPE=DEFAULT description" gives the value taken
// when none is passed. A dt value may be relative, today or today-N,
// counted from the query's now parameter when it declares one (otherwise
// from the current time): "-- param: since dt=today-30 …" with
// "WHERE dt >= ?" keeps Athena's partition projection to the last 30 days
// instead of every day since glue.ProjectionStart. Every query over a
// projected table bounds dt this way (TestBoundedPartitions).
//
// It is not a query engine or client: running queries is the job of
// queries/local (DuckDB) and of the lambdastack query command (Athena).
package queries
