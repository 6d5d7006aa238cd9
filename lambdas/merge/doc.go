// Command merge is the scheduled (every few minutes) merge Lambda of
// lambdastack: it publishes the serving view in VIEWS_LOCATION from the
// batch and speed views there (and the users view), and reports metrics with
// the STAGE dimension. The logic lives in package batch.
package main
