// Command msktopic is the custom resource that creates the stream's topic on
// an MSK Serverless cluster (internal/msktopic).
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/cfn"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/msktopic"
)

func main() {
	cfg, err := awscfg.Load(context.Background(), awscfg.Options{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "msktopic: %v\n", err)
		os.Exit(1)
	}
	h := &msktopic.Handler{Connect: msktopic.DialIAM(cfg.AWS.Credentials)}
	lambda.Start(cfn.LambdaWrap(h.Handle))
}
