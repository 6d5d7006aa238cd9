// Command speed is the speed-layer Lambda of lambdastack: a Kinesis event
// source mapping invokes it with batches of one shard, and it writes one
// Parquet speed object per hour touched under speed/ in the views location.
// The logic lives in streaming/speed.
//
// Configuration (environment, read once):
//
//	VIEWS_LOCATION  where speed objects go: s3://bucket/prefix (required)
//	STAGE           the deployment stage (dev, prod, …), the Stage dimension
//	                of the function's metrics (required; the CDK app sets it)
//
// The event source mapping should set FunctionResponseTypes to
// ReportBatchItemFailures, so a failed write retries from the first record
// whose window was not written.
package main
