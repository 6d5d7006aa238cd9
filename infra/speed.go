package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SpeedLayerProps wires the speed Lambda to the stream.
type SpeedLayerProps struct {
	Config   Config
	Stream   awskinesis.IStream
	Function awslambda.IFunction
}

// SpeedLayer is the speed Lambda's Kinesis event source mapping: it reports
// per-record failures, bisects a failing batch, retries a bounded number of
// times, and sends what still fails to an encrypted SQS queue.
type SpeedLayer struct {
	constructs.Construct
	// Source is the Kinesis event source (stream=kinesis).
	Source awslambdaeventsources.KinesisEventSource
	// Mapping is the MSK event source mapping (stream=msk).
	Mapping       awslambda.EventSourceMapping
	FailedBatches awssqs.Queue
}

// NewSpeedLayer adds the event source mapping and its on-failure queue.
func NewSpeedLayer(scope constructs.Construct, id string, props *SpeedLayerProps) *SpeedLayer {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	q := newFailedBatchesQueue(c)
	src := awslambdaeventsources.NewKinesisEventSource(props.Stream, &awslambdaeventsources.KinesisEventSourceProps{
		StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
		BatchSize:               jsii.Number(float64(cfg.SpeedBatchSize)),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(5)),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		RetryAttempts:           jsii.Number(float64(cfg.SpeedRetries)),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(cfg.StreamRetention.Hours())),
		OnFailure:               awslambdaeventsources.NewSqsDlq(q),
	})
	props.Function.AddEventSource(src)
	return &SpeedLayer{Construct: c, Source: src, FailedBatches: q}
}

// newFailedBatchesQueue is the speed event source mapping's on-failure
// destination: encrypted, TLS only, kept 14 days.
func newFailedBatchesQueue(c constructs.Construct) awssqs.Queue {
	return awssqs.NewQueue(c, jsii.String("FailedBatches"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}
