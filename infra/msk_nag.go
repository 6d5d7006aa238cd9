package main

import (
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// eniReason says why Lambda functions in the VPC and the MSK pollers hold
// EC2 wildcards.
const eniReason = "In the VPC the function (and its MSK event source mapping's pollers) creates and deletes its own network " +
	"interfaces: ec2:Describe* takes no resource (\"*\"), and the interface, subnet and security-group ARNs are not known " +
	"before Lambda creates them, so they are scoped to this account and region (…:network-interface/*, subnet/*, security-group/*)."

// eniWildcards are the findings grantENIs and grantPollerNetwork cause.
var eniWildcards = []interface{}{
	"Resource::*",
	&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:(network-interface|subnet|security-group)\/\*$/`)},
}

// mskGroupsWildcard is the Firehose role's grant on every consumer group
// of the cluster.
var mskGroupsWildcard = &cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::.*:group\/.*\/\*$/`)}

// addMSKNagSuppressions records the MSK stream kind's suppressions.
func addMSKNagSuppressions(s *LambdaStackStack, suppress func(interface{}, ...*cdknag.NagPackSuppression),
	iam5 func(string, ...interface{}) *cdknag.NagPackSuppression) {
	suppress(s.MSK.TopicFunction.Role, iam5(eniReason, eniWildcards...))
	// CDK's SDK-call custom resource is one Node.js function per stack
	// (a fixed construct id), on the runtime CDK pins for it.
	if p := s.Stack.Node().TryFindChild(jsii.String("AWS679f53fac002430cb0da5b7982bd2287")); p != nil {
		suppress(p, &cdknag.NagPackSuppression{
			Id: jsii.String("AwsSolutions-L1"),
			Reason: jsii.String("The SDK-call custom resource (kafka:GetBootstrapBrokers at deployment) runs on the Node.js runtime " +
				"aws-cdk-lib pins for it; it runs only during deployments."),
		})
	}
}
