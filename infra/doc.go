// Command infra is the AWS CDK app (Go) that deploys lambdastack: the
// Kinesis stream (or, with -c stream=msk, an MSK Serverless topic in a VPC:
// vpc.go, msk*.go), the Firehose delivery stream with the Go transform Lambda,
// the S3 buckets, the Glue catalog with partition projection, the Athena
// workgroup and named queries, the speed, batch and merge Lambdas, alarms and
// an operations dashboard, and (optionally) QuickSight. cdk.json runs it with
// `go run ./infra`.
//
// main only reads the configuration, builds the Lambda bootstrap binaries and
// synthesizes; every stack and construct lives in its own file. It is not a
// library: other packages must not import it.
package main
