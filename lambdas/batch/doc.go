// Command batch is the batch Lambda of lambdastack: it brings the batch view
// in VIEWS_LOCATION up to date from the raw events in RAW_LOCATION
// (ALLOWED_LATENESS, default 15m), and reports its watermark age as an EMF
// metric with the STAGE dimension. Its input picks the action: {} or
// {"action":"build"} builds with BATCH_ENGINE (go, the default, or athena);
// with athena, {"action":"plan"} answers the run's UNLOAD statements and
// {"action":"publish","runId":…} commits what they staged in
// STAGING_LOCATION (ATHENA_WORKGROUP, GLUE_DATABASE). A run that loses the
// race to another answers status lost_race. The logic lives in package batch.
package main
