package main

import (
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsmsk"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The stream kinds (context key stream).
const (
	StreamKinesis = "kinesis"
	StreamMSK     = "msk"
)

// MSKTopicEntry is the custom resource function that creates the topic on
// the MSK Serverless cluster; the stack deploys it only for stream=msk.
const MSKTopicEntry = "lambdas/msktopic"

// MSKTopic is the topic producers write to and both consumers read.
const MSKTopic = "events"

// MSKConfig configures the MSK Serverless stream (stream=msk).
type MSKConfig struct {
	// Partitions is the topic's partition count: the speed layer's
	// parallelism, and billed per partition-hour. Kafka cannot remove
	// partitions, so it can only be raised on an existing stage.
	Partitions int
	// VpcID, when set, puts the cluster and the functions in this existing
	// VPC (looked up at synthesis) instead of one the stack creates.
	VpcID string
	// SpeedMaxPollers caps the speed event source mapping's provisioned
	// pollers (at least 1 always runs).
	SpeedMaxPollers int
}

// DefaultMSKConfig is what stream=msk deploys with no other context.
func DefaultMSKConfig() MSKConfig {
	return MSKConfig{Partitions: 4, SpeedMaxPollers: 2}
}

var vpcIDRE = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)

// Validate reports the first MSK setting that cannot deploy.
func (m MSKConfig) Validate() error {
	switch {
	case m.Partitions < 1 || m.Partitions > 2400:
		return fmt.Errorf("partitions %d: an MSK Serverless topic takes 1 to 2400", m.Partitions)
	case m.VpcID != "" && !vpcIDRE.MatchString(m.VpcID):
		return fmt.Errorf("vpcId %q: want a VPC id such as vpc-0123456789abcdef0", m.VpcID)
	case m.SpeedMaxPollers < 1 || m.SpeedMaxPollers > 2000:
		return fmt.Errorf("speedMaxPollers %d: provisioned pollers run 1 to 2000", m.SpeedMaxPollers)
	}
	return nil
}

// MSKStreamProps configures the cluster and its topic.
type MSKStreamProps struct {
	Config  Config
	Network *Network
	// TopicAssetDir holds the bootstrap of MSKTopicEntry.
	TopicAssetDir string
}

// MSKStream is an MSK Serverless cluster (IAM authentication only) in the
// stack's network, the events topic on it, and its bootstrap brokers.
type MSKStream struct {
	constructs.Construct
	Cluster     awsmsk.CfnServerlessCluster
	ClusterName string
	Topic       string
	// BootstrapBrokers is the SASL/IAM broker string (host:9098,…), read
	// with kafka:GetBootstrapBrokers at deployment.
	BootstrapBrokers *string
	// TopicResource creates the topic; consumers depend on it.
	TopicResource awscdk.CustomResource
	// TopicFunction runs TopicResource.
	TopicFunction *GoFunction
	// Policy lets Firehose connect to the cluster privately.
	Policy awsmsk.CfnClusterPolicy
	// BrokersLookup reads BootstrapBrokers.
	BrokersLookup customresources.AwsCustomResource
}

// NewMSKStream creates the cluster, its resource policy for Firehose, the
// broker lookup and the topic.
func NewMSKStream(scope constructs.Construct, id string, props *MSKStreamProps) *MSKStream {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	net := props.Network
	removal := removalPolicy(cfg.Destroy)
	m := &MSKStream{Construct: c, ClusterName: "lambdastack-" + cfg.Stage, Topic: MSKTopic}
	m.Cluster = awsmsk.NewCfnServerlessCluster(c, jsii.String("Cluster"), &awsmsk.CfnServerlessClusterProps{
		ClusterName: jsii.String(m.ClusterName),
		ClientAuthentication: &awsmsk.CfnServerlessCluster_ClientAuthenticationProperty{
			Sasl: &awsmsk.CfnServerlessCluster_SaslProperty{Iam: &awsmsk.CfnServerlessCluster_IamProperty{Enabled: jsii.Bool(true)}},
		},
		VpcConfigs: &[]interface{}{&awsmsk.CfnServerlessCluster_VpcConfigProperty{
			SubnetIds:      net.SubnetIDs(),
			SecurityGroups: jsii.Strings(*net.Cluster.SecurityGroupId()),
		}},
	})
	m.Cluster.ApplyRemovalPolicy(removal, nil)

	// Firehose reads the topic through a VPC connection it creates to the
	// cluster (private bootstrap brokers): the cluster's policy allows it.
	m.Policy = awsmsk.NewCfnClusterPolicy(c, jsii.String("FirehoseAccess"), &awsmsk.CfnClusterPolicyProps{
		ClusterArn: m.ClusterArn(),
		Policy: awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &[]awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("firehose.amazonaws.com"), nil)},
				Actions:    jsii.Strings("kafka:CreateVpcConnection", "kafka:GetBootstrapBrokers", "kafka:DescribeCluster", "kafka:DescribeClusterV2"),
				Resources:  jsii.Strings(*m.ClusterArn()),
			}),
		}}),
	})

	// CfnServerlessCluster exposes only its ARN: the brokers come from
	// kafka:GetBootstrapBrokers, called at deployment by CDK's SDK-call
	// custom resource, with its own role and log group.
	lookupLogs := newLogGroup(c, "BrokersLookupLogs", cfg.Destroy)
	lookupRole := awsiam.NewRole(c, jsii.String("BrokersLookupRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Reads the bootstrap brokers of the lambdastack " + cfg.Stage + " MSK cluster at deployment"),
	})
	lookupLogs.Grant(lookupRole, jsii.String("logs:CreateLogStream"), jsii.String("logs:PutLogEvents"))
	call := &customresources.AwsSdkCall{
		Service:            jsii.String("Kafka"),
		Action:             jsii.String("GetBootstrapBrokers"),
		Parameters:         map[string]interface{}{"ClusterArn": m.ClusterArn()},
		PhysicalResourceId: customresources.PhysicalResourceId_Of(m.ClusterArn()),
		OutputPaths:        jsii.Strings("BootstrapBrokerStringSaslIam"),
	}
	m.BrokersLookup = customresources.NewAwsCustomResource(c, jsii.String("BootstrapBrokers"), &customresources.AwsCustomResourceProps{
		OnCreate:            call,
		OnUpdate:            call,
		Policy:              customresources.AwsCustomResourcePolicy_FromSdkCalls(&customresources.SdkCallsPolicyOptions{Resources: jsii.Strings(*m.ClusterArn())}),
		Role:                lookupRole,
		LogGroup:            lookupLogs,
		InstallLatestAwsSdk: jsii.Bool(false),
		Timeout:             awscdk.Duration_Minutes(jsii.Number(2)),
	})
	m.BootstrapBrokers = m.BrokersLookup.GetResponseField(jsii.String("BootstrapBrokerStringSaslIam"))

	// AWS::MSK::Topic serves provisioned clusters only: a Go function in the
	// VPC creates the topic over the Kafka admin protocol.
	m.TopicFunction = NewGoFunction(c, "TopicFunction", &GoFunctionProps{
		AssetDir:    props.TopicAssetDir,
		Description: "Creates the lambdastack " + cfg.Stage + " topic on the MSK Serverless cluster (custom resource)",
		Timeout:     awscdk.Duration_Minutes(jsii.Number(5)),
		MemoryMB:    256,
		Destroy:     cfg.Destroy,
		Network:     net,
	})
	m.GrantKafka(m.TopicFunction.Role, "", "kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic", "kafka-cluster:AlterTopic",
		"kafka-cluster:DeleteTopic", "kafka-cluster:DescribeTopicDynamicConfiguration", "kafka-cluster:AlterTopicDynamicConfiguration")
	m.TopicResource = awscdk.NewCustomResource(c, jsii.String("Topic"), &awscdk.CustomResourceProps{
		ServiceToken: m.TopicFunction.Function.FunctionArn(),
		ResourceType: jsii.String("Custom::MskTopic"),
		Properties: &map[string]interface{}{
			"BootstrapBrokers": m.BootstrapBrokers,
			"Topic":            m.Topic,
			"Partitions":       strconv.Itoa(cfg.MSK.Partitions),
			"RetentionMs":      strconv.FormatInt(cfg.StreamRetention.Milliseconds(), 10),
			"DeleteOnRemove":   strconv.FormatBool(cfg.Destroy),
		},
		RemovalPolicy: removal,
	})
	// The function reaches the brokers and answers CloudFormation (S3)
	// through the network, with the grants in its role's policy.
	m.TopicResource.Node().AddDependency(net.Construct)
	dependOnPolicy(m.TopicResource, m.TopicFunction.Role)
	return m
}

// ClusterArn is arn:…:kafka:<region>:<account>:cluster/<name>/<uuid>.
func (m *MSKStream) ClusterArn() *string { return m.Cluster.AttrArn() }

// resourceArn is the ARN of a topic or a consumer group on the cluster:
// arn:…:kafka:<region>:<account>:<kind>/<cluster name>/<cluster uuid>/<name>.
func (m *MSKStream) resourceArn(kind, name string) *string {
	parts := awscdk.Fn_Split(jsii.String("/"), m.ClusterArn(), jsii.Number(3))
	return awscdk.Fn_Join(jsii.String(""), &[]*string{
		jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":kafka:"), awscdk.Aws_REGION(), jsii.String(":"),
		awscdk.Aws_ACCOUNT_ID(), jsii.String(":" + kind + "/"), awscdk.Fn_Select(jsii.Number(1), parts),
		jsii.String("/"), awscdk.Fn_Select(jsii.Number(2), parts), jsii.String("/" + name),
	})
}

// TopicArn is the events topic's ARN.
func (m *MSKStream) TopicArn() *string { return m.resourceArn("topic", m.Topic) }

// GroupArn is a consumer group's ARN ("*" for every group on the cluster).
func (m *MSKStream) GroupArn(group string) *string { return m.resourceArn("group", group) }

// GrantKafka lets role connect to the cluster and describe it, and run the
// topic actions on the events topic; with a group, also join and commit as
// that consumer group. These are the kafka-cluster (data plane) actions of
// MSK IAM authentication, which CDK's Kafka event source does not grant.
func (m *MSKStream) GrantKafka(role awsiam.IRole, group string, topicActions ...string) {
	stmt := func(actions []string, resources ...*string) {
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings(actions...), Resources: &resources,
		}))
	}
	stmt([]string{"kafka:DescribeCluster", "kafka:DescribeClusterV2", "kafka:GetBootstrapBrokers",
		"kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:DescribeClusterDynamicConfiguration"}, m.ClusterArn())
	if len(topicActions) > 0 {
		stmt(topicActions, m.TopicArn())
	}
	if group != "" {
		stmt([]string{"kafka-cluster:DescribeGroup", "kafka-cluster:AlterGroup"}, m.GroupArn(group))
	}
}

// SpeedConsumerGroup is the speed event source mapping's consumer group,
// whose lag the alarms watch.
func SpeedConsumerGroup(cfg Config) string { return "lambdastack-" + cfg.Stage + "-speed" }

// mskMaxRecordAge is the event source mapping's maximum record age: the
// topic's retention, within the 60 s to 7 days the mapping accepts.
func mskMaxRecordAge(cfg Config) time.Duration {
	return min(max(cfg.StreamRetention, time.Minute), 7*24*time.Hour)
}
