package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	if _, err := buildApp(app, "."); err != nil {
		fmt.Fprintln(os.Stderr, "lambdastack infra:", err)
		jsii.Close()
		os.Exit(1)
	}
	app.Synth(nil)
}
