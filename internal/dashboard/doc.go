// Package dashboard renders lambdastack's local dashboard: one
// self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched
// from the network) drawn from the results of the named queries: events per
// hour coloured by layer (batch or speed), distinct users per day (all
// event types and each type, from the users view), the top
// event types of the last 24 hours and rejected records by reason, with
// the serving view's freshness in the header.
//
// It only draws: running the queries is the caller's job (lambdastack demo
// runs them on DuckDB). It is not the QuickSight dashboard, which the CDK
// app defines over the same queries.
package dashboard
