package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// KafkaPort is the port MSK Serverless serves SASL/IAM clients on.
const KafkaPort = 9098

// NetworkProps configures the network of the MSK stream kind.
type NetworkProps struct {
	Config Config
}

// Network is the VPC the MSK cluster, its consumers and the topic admin
// function live in, with one security group per side:
//   - Cluster: the cluster's ENIs and the event source mapping's pollers
//     (which use the cluster's subnets and security groups); it accepts Kafka
//     from itself and from Clients.
//   - Clients: the Lambda functions in the VPC (speed, topic admin).
//   - Endpoints: the interface VPC endpoints; they accept HTTPS from both.
//
// A VPC the stack creates has isolated private subnets in two AZs and no NAT
// gateway: the pollers reach STS, Lambda and SQS (the on-failure queue)
// through interface endpoints, and the functions reach S3 through a gateway
// endpoint. An existing VPC (vpcId) gets the same endpoints in its private
// subnets; the stack does not change its routing otherwise.
type Network struct {
	constructs.Construct
	Vpc       awsec2.IVpc
	Subnets   *awsec2.SubnetSelection
	Cluster   awsec2.SecurityGroup
	Clients   awsec2.SecurityGroup
	Endpoints awsec2.SecurityGroup
}

// NewNetwork creates (or looks up) the VPC, the security groups and the
// VPC endpoints.
func NewNetwork(scope constructs.Construct, id string, props *NetworkProps) (*Network, error) {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	n := &Network{Construct: c}
	if cfg.MSK.VpcID != "" {
		// Vpc.fromLookup reads the VPC at synthesis (cached in
		// cdk.context.json): the stack needs a concrete account and region.
		stack := awscdk.Stack_Of(c)
		if *awscdk.Token_IsUnresolved(stack.Account()) || *awscdk.Token_IsUnresolved(stack.Region()) {
			return nil, fmt.Errorf("vpcId %s: looking up an existing VPC needs the stack's account and region; "+
				"run through the CDK CLI with credentials (it sets CDK_DEFAULT_ACCOUNT and CDK_DEFAULT_REGION) or export both", cfg.MSK.VpcID)
		}
		n.Vpc = awsec2.Vpc_FromLookup(c, jsii.String("Vpc"), &awsec2.VpcLookupOptions{VpcId: jsii.String(cfg.MSK.VpcID)})
		n.Subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, OnePerAz: jsii.Bool(true)}
		if len(*n.Vpc.PrivateSubnets()) == 0 {
			n.Subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, OnePerAz: jsii.Bool(true)}
		}
	} else {
		flowLogs := newLogGroup(c, "FlowLogs", cfg.Destroy)
		vpc := awsec2.NewVpc(c, jsii.String("Vpc"), &awsec2.VpcProps{
			IpAddresses:                  awsec2.IpAddresses_Cidr(jsii.String("10.40.0.0/16")),
			MaxAzs:                       jsii.Number(2),
			NatGateways:                  jsii.Number(0),
			CreateInternetGateway:        jsii.Bool(false),
			RestrictDefaultSecurityGroup: jsii.Bool(false),
			SubnetConfiguration: &[]*awsec2.SubnetConfiguration{{
				Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(22),
			}},
			FlowLogs: &map[string]*awsec2.FlowLogOptions{"all": {
				Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
				TrafficType: awsec2.FlowLogTrafficType_REJECT,
			}},
		})
		n.Vpc = vpc
		n.Subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED}
	}
	if got := len(*n.Vpc.SelectSubnets(n.Subnets).SubnetIds); got < 2 && !*awscdk.Token_IsUnresolved(n.Vpc.VpcId()) {
		return nil, fmt.Errorf("vpc %s: MSK Serverless needs private subnets in at least 2 availability zones, found %d", *n.Vpc.VpcId(), got)
	}

	sg := func(id, desc string) awsec2.SecurityGroup {
		return awsec2.NewSecurityGroup(c, jsii.String(id), &awsec2.SecurityGroupProps{
			Vpc: n.Vpc, Description: jsii.String(desc), AllowAllOutbound: jsii.Bool(true),
		})
	}
	n.Cluster = sg("ClusterSecurityGroup", "lambdastack "+cfg.Stage+": MSK Serverless cluster and its event source mapping pollers")
	n.Clients = sg("ClientSecurityGroup", "lambdastack "+cfg.Stage+": Lambda functions that talk to the MSK cluster")
	n.Endpoints = sg("EndpointSecurityGroup", "lambdastack "+cfg.Stage+": interface VPC endpoints (HTTPS)")
	kafka := awsec2.Port_Tcp(jsii.Number(KafkaPort))
	n.Cluster.AddIngressRule(n.Cluster, kafka, jsii.String("Kafka (IAM) from the pollers on the cluster's own security group"), nil)
	n.Cluster.AddIngressRule(n.Clients, kafka, jsii.String("Kafka (IAM) from the Lambda functions"), nil)
	https := awsec2.Port_Tcp(jsii.Number(443))
	n.Endpoints.AddIngressRule(n.Cluster, https, jsii.String("AWS APIs for the pollers"), nil)
	n.Endpoints.AddIngressRule(n.Clients, https, jsii.String("AWS APIs for the Lambda functions"), nil)

	n.Vpc.AddGatewayEndpoint(jsii.String("S3"), &awsec2.GatewayVpcEndpointOptions{
		Service: awsec2.GatewayVpcEndpointAwsService_S3(),
		Subnets: &[]*awsec2.SubnetSelection{n.Subnets},
	})
	// The pollers authenticate to the cluster with the function's role (STS),
	// invoke the function (Lambda) and send failed batches to the queue (SQS).
	for _, ep := range []struct {
		id  string
		svc awsec2.InterfaceVpcEndpointAwsService
	}{
		{"Sts", awsec2.InterfaceVpcEndpointAwsService_STS()},
		{"Lambda", awsec2.InterfaceVpcEndpointAwsService_LAMBDA()},
		{"Sqs", awsec2.InterfaceVpcEndpointAwsService_SQS()},
	} {
		n.Vpc.AddInterfaceEndpoint(jsii.String(ep.id), &awsec2.InterfaceVpcEndpointOptions{
			Service:           ep.svc,
			Subnets:           n.Subnets,
			SecurityGroups:    &[]awsec2.ISecurityGroup{n.Endpoints},
			PrivateDnsEnabled: jsii.Bool(true),
			Open:              jsii.Bool(false),
		})
	}
	return n, nil
}

// SubnetIDs are the private subnets the cluster and the functions use.
func (n *Network) SubnetIDs() *[]*string { return n.Vpc.SelectSubnets(n.Subnets).SubnetIds }

// grantENIs lets a Lambda function (or its event source mapping's pollers)
// manage its network interfaces in this account and region's subnets and
// security groups. ec2:DescribeNetworkInterfaces takes no resource.
func grantENIs(role awsiam.IRole) {
	ec2ARN := func(kind string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":ec2:"), awscdk.Aws_REGION(), jsii.String(":"),
			awscdk.Aws_ACCOUNT_ID(), jsii.String(":" + kind + "/*"),
		})
	}
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:CreateNetworkInterface"),
		Resources: &[]*string{ec2ARN("network-interface"), ec2ARN("subnet"), ec2ARN("security-group")},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"),
		Resources: &[]*string{ec2ARN("network-interface")},
	}))
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces"),
		Resources: jsii.Strings("*"),
	}))
}
