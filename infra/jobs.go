package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// ScheduledJobProps runs a function on a schedule.
type ScheduledJobProps struct {
	// Schedule is an EventBridge expression: rate(…) or cron(…).
	Schedule    string
	Description string
	Function    awslambda.IFunction
}

// ScheduledJob is an EventBridge rule invoking a Lambda function.
type ScheduledJob struct {
	constructs.Construct
	Rule awsevents.Rule
}

// NewScheduledJob creates the rule; the target retries twice.
func NewScheduledJob(scope constructs.Construct, id string, props *ScheduledJobProps) *ScheduledJob {
	c := constructs.NewConstruct(scope, &id)
	rule := awsevents.NewRule(c, jsii.String("Schedule"), &awsevents.RuleProps{
		Description: jsii.String(props.Description),
		Schedule:    awsevents.Schedule_Expression(jsii.String(props.Schedule)),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(props.Function, &awseventstargets.LambdaFunctionProps{
				RetryAttempts: jsii.Number(2),
			}),
		},
	})
	return &ScheduledJob{Construct: c, Rule: rule}
}
