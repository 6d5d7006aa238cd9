package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

func main() {
	// The handler reads the raw payload itself (lambda.Handler), so the
	// runtime does no reflection-based JSON work.
	// The runtime sends each response before it invokes again, so the
	// response buffer can be reused.
	lambda.Start(&transform.Handler{ReuseResponse: true})
}
