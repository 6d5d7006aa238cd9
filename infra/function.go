package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// GoFunctionProps describes one Go Lambda function.
type GoFunctionProps struct {
	// AssetDir holds the function's bootstrap binary (see buildBootstraps).
	AssetDir    string
	Description string
	Environment map[string]string
	Timeout     awscdk.Duration
	MemoryMB    float64
	// Destroy deletes the function's log group with the stack.
	Destroy bool
	// Network, when set, runs the function in its private subnets with the
	// client security group.
	Network *Network
}

// GoFunction is a Go Lambda function (provided.al2023, arm64) with its own
// role and log group: the role may write only to that log group, so no AWS
// managed policy is attached; callers add the grants the function needs.
type GoFunction struct {
	constructs.Construct
	Function awslambda.Function
	Role     awsiam.Role
	LogGroup awslogs.LogGroup
}

// NewGoFunction creates the function from its prebuilt bootstrap.
func NewGoFunction(scope constructs.Construct, id string, props *GoFunctionProps) *GoFunction {
	c := constructs.NewConstruct(scope, &id)
	logs := newLogGroup(c, "Logs", props.Destroy)
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String(props.Description),
	})
	logs.Grant(role, jsii.String("logs:CreateLogStream"), jsii.String("logs:PutLogEvents"))
	env := make(map[string]*string, len(props.Environment))
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}
	timeout := props.Timeout
	if timeout == nil {
		timeout = awscdk.Duration_Minutes(jsii.Number(1))
	}
	mem := props.MemoryMB
	if mem == 0 {
		mem = 512
	}
	fp := &awslambda.FunctionProps{
		Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:  awslambda.Architecture_ARM_64(),
		Handler:       jsii.String("bootstrap"),
		Code:          awslambda.Code_FromAsset(jsii.String(props.AssetDir), nil),
		Description:   jsii.String(props.Description),
		Environment:   &env,
		Timeout:       timeout,
		MemorySize:    jsii.Number(mem),
		Role:          role,
		LogGroup:      logs,
		LoggingFormat: awslambda.LoggingFormat_JSON,
	}
	if n := props.Network; n != nil {
		fp.Vpc, fp.VpcSubnets = n.Vpc, n.Subnets
		fp.SecurityGroups = &[]awsec2.ISecurityGroup{n.Clients}
		grantENIs(role)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), fp)
	if props.Network != nil {
		// Lambda checks the network grants when it creates the function.
		dependOnPolicy(fn, role)
	}
	return &GoFunction{Construct: c, Function: fn, Role: role, LogGroup: logs}
}

// removalPolicy is what deleting the stack does to data and logs: keep them,
// or (destroy, for throwaway stages) delete them.
func removalPolicy(destroy bool) awscdk.RemovalPolicy {
	if destroy {
		return awscdk.RemovalPolicy_DESTROY
	}
	return awscdk.RemovalPolicy_RETAIN
}

// newLogGroup is a log group kept one month.
func newLogGroup(scope constructs.Construct, id string, destroy bool) awslogs.LogGroup {
	return awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removalPolicy(destroy),
	})
}
