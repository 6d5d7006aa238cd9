package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesisfirehose"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// RawPrefix is the Firehose S3 prefix. The transform Lambda
// (streaming/transform) returns the partition keys route ("events" or
// "errors/<reason>"), dt and hour for every record, so valid events and
// quarantined records share one delivery stream and land where the Glue
// tables' projections look: events/dt=…/hour=…/ and
// errors/<reason>/dt=…/hour=…/ (DESIGN.md "Storage layout"; Athena reads the
// hour folders below an errors dt= partition).
const RawPrefix = "!{partitionKeyFromLambda:route}/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"

// RawErrorPrefix is where Firehose puts records it could not process or
// deliver (the transform's ProcessingFailed records among them).
const RawErrorPrefix = "firehose-failed/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/"

// IngestProps wires the delivery stream to its source: Stream (Kinesis) or
// MSK (the topic on the MSK cluster).
type IngestProps struct {
	Config    Config
	Stream    awskinesis.IStream
	MSK       *MSKStream
	Raw       awss3.IBucket
	Transform awslambda.IFunction
}

// Ingest is the Firehose delivery stream that reads the Kinesis stream (or the MSK topic),
// runs the Go transform Lambda on each buffer, and writes gzip NDJSON into
// the raw bucket with dynamic partitioning.
type Ingest struct {
	constructs.Construct
	DeliveryStream awskinesisfirehose.CfnDeliveryStream
	Role           awsiam.Role
	LogGroup       awslogs.LogGroup
}

// NewIngest creates the delivery stream, its role and its log group.
func NewIngest(scope constructs.Construct, id string, props *IngestProps) *Ingest {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	removal := removalPolicy(cfg.Destroy)
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("firehose.amazonaws.com"), nil),
		Description: jsii.String("Firehose: read the event stream, run the transform, write the raw bucket"),
	})
	props.Raw.GrantRead(role, nil)
	props.Raw.GrantPut(role, nil)
	props.Transform.GrantInvoke(role)
	role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:GetFunctionConfiguration"),
		Resources: jsii.Strings(*props.Transform.FunctionArn()),
	}))
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     awslogs.RetentionDays_ONE_MONTH,
		RemovalPolicy: removal,
	})
	logStream := awslogs.NewLogStream(c, jsii.String("S3Delivery"), &awslogs.LogStreamProps{
		LogGroup:      logs,
		RemovalPolicy: removal,
	})
	logs.Grant(role, jsii.String("logs:PutLogEvents"))

	dsp := &awskinesisfirehose.CfnDeliveryStreamProps{
		ExtendedS3DestinationConfiguration: &awskinesisfirehose.CfnDeliveryStream_ExtendedS3DestinationConfigurationProperty{
			BucketArn:         props.Raw.BucketArn(),
			RoleArn:           role.RoleArn(),
			Prefix:            jsii.String(RawPrefix),
			ErrorOutputPrefix: jsii.String(RawErrorPrefix),
			CompressionFormat: jsii.String("GZIP"),
			BufferingHints: &awskinesisfirehose.CfnDeliveryStream_BufferingHintsProperty{
				SizeInMBs:         jsii.Number(float64(cfg.FirehoseBufferMB)),
				IntervalInSeconds: jsii.Number(cfg.FirehoseBufferInterval.Seconds()),
			},
			DynamicPartitioningConfiguration: &awskinesisfirehose.CfnDeliveryStream_DynamicPartitioningConfigurationProperty{
				Enabled: jsii.Bool(true),
				RetryOptions: &awskinesisfirehose.CfnDeliveryStream_RetryOptionsProperty{
					DurationInSeconds: jsii.Number(300),
				},
			},
			ProcessingConfiguration: &awskinesisfirehose.CfnDeliveryStream_ProcessingConfigurationProperty{
				Enabled: jsii.Bool(true),
				Processors: &[]interface{}{
					&awskinesisfirehose.CfnDeliveryStream_ProcessorProperty{
						Type: jsii.String("Lambda"),
						Parameters: &[]interface{}{
							param("LambdaArn", *props.Transform.FunctionArn()),
							param("BufferSizeInMBs", fmt.Sprint(cfg.ProcessorBufferMB)),
							param("BufferIntervalInSeconds", "60"),
							param("NumberOfRetries", "3"),
						},
					},
				},
			},
			CloudWatchLoggingOptions: &awskinesisfirehose.CfnDeliveryStream_CloudWatchLoggingOptionsProperty{
				Enabled:       jsii.Bool(true),
				LogGroupName:  logs.LogGroupName(),
				LogStreamName: logStream.LogStreamName(),
			},
		},
	}
	if m := props.MSK; m != nil {
		dsp.DeliveryStreamType = jsii.String("MSKAsSource")
		dsp.MskSourceConfiguration = mskSource(m, role)
	} else {
		props.Stream.GrantRead(role)
		dsp.DeliveryStreamType = jsii.String("KinesisStreamAsSource")
		dsp.KinesisStreamSourceConfiguration = &awskinesisfirehose.CfnDeliveryStream_KinesisStreamSourceConfigurationProperty{
			KinesisStreamArn: props.Stream.StreamArn(),
			RoleArn:          role.RoleArn(),
		}
	}
	ds := awskinesisfirehose.NewCfnDeliveryStream(c, jsii.String("DeliveryStream"), dsp)
	// Firehose checks its permissions when the stream is created (and, from
	// MSK, that the topic exists and the cluster policy lets it connect).
	dependOnPolicy(ds, role)
	if m := props.MSK; m != nil {
		ds.Node().AddDependency(m.TopicResource, m.Policy)
	}
	return &Ingest{Construct: c, DeliveryStream: ds, Role: role, LogGroup: logs}
}

func param(name, value string) *awskinesisfirehose.CfnDeliveryStream_ProcessorParameterProperty {
	return &awskinesisfirehose.CfnDeliveryStream_ProcessorParameterProperty{
		ParameterName:  jsii.String(name),
		ParameterValue: jsii.String(value),
	}
}

// dependOnPolicy makes c wait for the role's default policy, which holds
// the grants added to the role.
func dependOnPolicy(c constructs.IConstruct, role awsiam.Role) {
	if p := role.Node().TryFindChild(jsii.String("DefaultPolicy")); p != nil {
		c.Node().AddDependency(p)
	}
}
