// Package awscfg is the one place lambdastack builds its AWS configuration.
//
// Load wraps config.LoadDefaultConfig, so profiles, regions, credentials and
// AWS_ENDPOINT_URL (or endpoint_url in the shared config) behave as in every
// AWS tool. On top of that it makes local emulators (LocalStack, moto) work
// with no ~/.aws at all: when an endpoint is set and no region is configured
// it uses us-east-1, when the endpoint is on this machine and no credentials
// are configured it uses dummy ones, and S3 uses path-style addressing there.
// The S3, Kinesis and Athena clients of the project come from Config. (The
// CDK app creates the Glue catalog; code that needs a Glue client builds one
// from Config.AWS, so the command line does not link the large Glue SDK.)
//
// It is not a place for service logic: callers wrap the clients in their own
// small interfaces holding only the calls they make.
package awscfg
