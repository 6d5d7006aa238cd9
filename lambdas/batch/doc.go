// Command batch is the scheduled (hourly) batch Lambda of lambdastack: it
// brings the batch view in VIEWS_LOCATION up to date from the raw events in
// RAW_LOCATION (ALLOWED_LATENESS, default 15m), and reports its watermark age
// as an EMF metric with the STAGE dimension. The logic lives in package batch.
package main
