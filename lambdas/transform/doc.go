// Command transform is the Firehose processing Lambda of lambdastack: it
// validates and enriches each record and routes rejected ones to
// errors/<reason>/. The logic lives in streaming/transform.
package main
