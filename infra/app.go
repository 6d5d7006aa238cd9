package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// buildApp reads the configuration from the app's context, builds the Lambda
// bootstraps into build/lambda under the module root, and adds the stage's
// stack with the cdk-nag checks.
func buildApp(app awscdk.App, workDir string) (*LambdaStackStack, error) {
	// Server access logs are delivered under a bucket policy, not ACLs.
	app.Node().SetContext(jsii.String("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"), true)
	cfg, err := ConfigFromContext(app.Node())
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot(workDir)
	if err != nil {
		return nil, err
	}
	entries := LambdaEntries
	if cfg.Stream == StreamMSK {
		entries = append(append([]string{}, LambdaEntries...), MSKTopicEntry)
	}
	assets, err := buildBootstraps(root, filepath.Join(root, "build", "lambda"), entries)
	if err != nil {
		return nil, err
	}
	var env *awscdk.Environment
	if acct, region := os.Getenv("CDK_DEFAULT_ACCOUNT"), os.Getenv("CDK_DEFAULT_REGION"); acct != "" && region != "" {
		env = &awscdk.Environment{Account: jsii.String(acct), Region: jsii.String(region)}
	}
	stack, err := NewLambdaStackStack(app, cfg.StackName(), &LambdaStackStackProps{
		StackProps: awscdk.StackProps{Env: env},
		Config:     cfg,
		Assets:     assets,
	})
	if err != nil {
		return nil, fmt.Errorf("defining the %s stack: %w", cfg.StackName(), err)
	}
	AddNagChecks(app, stack)
	return stack, nil
}
