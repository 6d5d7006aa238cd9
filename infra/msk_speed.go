package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MSKSpeedLayerProps wires the speed Lambda to the topic.
type MSKSpeedLayerProps struct {
	Config   Config
	Stream   *MSKStream
	Function *GoFunction
}

// NewMSKSpeedLayer adds the speed Lambda's MSK event source mapping and its
// on-failure queue: per-record failures (ReportBatchItemFailures), bisect
// on error, bounded retries, a maximum record age, failed batches to SQS.
//
// On a Kafka event source mapping those error-handling controls exist only
// in provisioned mode (ProvisionedPollerConfig); in the default on-demand
// mode a failing batch is retried until its records expire and blocks the
// partition. So the mapping runs in provisioned mode with at least one
// poller (always billed) and at most speedMaxPollers. The mapping is built
// directly (not with CDK's Kafka event source, which attaches an AWS managed
// policy to the role): GrantKafka and grantPollerNetwork grant what the
// pollers need, scoped to this cluster, topic and consumer group.
func NewMSKSpeedLayer(scope constructs.Construct, id string, props *MSKSpeedLayerProps) *SpeedLayer {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	q := newFailedBatchesQueue(c)
	group := SpeedConsumerGroup(cfg)
	props.Stream.GrantKafka(props.Function.Role, group, "kafka-cluster:DescribeTopic", "kafka-cluster:ReadData")
	grantPollerNetwork(props.Function.Role)
	esm := awslambda.NewEventSourceMapping(c, jsii.String("Mapping"), &awslambda.EventSourceMappingProps{
		Target:                  props.Function.Function,
		EventSourceArn:          props.Stream.ClusterArn(),
		KafkaTopic:              jsii.String(props.Stream.Topic),
		KafkaConsumerGroupId:    jsii.String(group),
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(float64(cfg.SpeedBatchSize)),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(5)),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(cfg.SpeedRetries)),
		MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(mskMaxRecordAge(cfg).Seconds())),
		OnFailure:               awslambdaeventsources.NewSqsDlq(q),
		ProvisionedPollerConfig: &awslambda.ProvisionedPollerConfig{
			MinimumPollers: jsii.Number(1),
			MaximumPollers: jsii.Number(float64(cfg.MSK.SpeedMaxPollers)),
		},
	})
	// The mapping starts reading at once: the topic must exist, and the
	// pollers authenticate with the role's policy.
	esm.Node().AddDependency(props.Stream.TopicResource)
	dependOnPolicy(esm, props.Function.Role)
	return &SpeedLayer{Construct: c, Mapping: esm, FailedBatches: q}
}

// grantPollerNetwork lets the event source mapping's pollers create their
// network interfaces in the cluster's subnets (with the function's role).
// The EC2 Describe actions take no resource: "*" is the only valid scope.
func grantPollerNetwork(role awsiam.IRole) {
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"),
		Resources: jsii.Strings("*"),
	}))
	grantENIs(role)
}

// mskSource is Firehose's MSK source: the events topic read with IAM
// through a private VPC connection, from the earliest offset (the epoch as
// start time), so nothing written before the delivery stream was active is
// lost. The role gets the cluster, topic and (Firehose-chosen) group grants.
func mskSource(m *MSKStream, role awsiam.IRole) *awskinesisfirehose.CfnDeliveryStream_MSKSourceConfigurationProperty {
	m.GrantKafka(role, "*", "kafka-cluster:DescribeTopic", "kafka-cluster:DescribeTopicDynamicConfiguration", "kafka-cluster:ReadData")
	return &awskinesisfirehose.CfnDeliveryStream_MSKSourceConfigurationProperty{
		MskClusterArn: m.ClusterArn(),
		TopicName:     jsii.String(m.Topic),
		AuthenticationConfiguration: &awskinesisfirehose.CfnDeliveryStream_AuthenticationConfigurationProperty{
			Connectivity: jsii.String("PRIVATE"),
			RoleArn:      role.RoleArn(),
		},
		ReadFromTimestamp: jsii.String("1970-01-01T00:00:00Z"),
	}
}
