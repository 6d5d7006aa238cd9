package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// EventStreamProps configures the ingest stream.
type EventStreamProps struct {
	Config Config
}

// EventStream is the Kinesis Data Stream producers write to, KMS-encrypted.
type EventStream struct {
	constructs.Construct
	Stream awskinesis.Stream
}

// NewEventStream creates the stream in the configured capacity mode.
func NewEventStream(scope constructs.Construct, id string, props *EventStreamProps) *EventStream {
	c := constructs.NewConstruct(scope, &id)
	cfg := props.Config
	removal := removalPolicy(cfg.Destroy)
	// The AWS-managed aws/kinesis key: KMS encryption at rest without a
	// customer key's monthly and per-request cost, usable by every consumer
	// the stream's own grants allow.
	sp := &awskinesis.StreamProps{
		Encryption:      awskinesis.StreamEncryption_MANAGED,
		RetentionPeriod: awscdk.Duration_Hours(jsii.Number(cfg.StreamRetention.Hours())),
		RemovalPolicy:   removal,
	}
	if cfg.StreamMode == "provisioned" {
		sp.StreamMode = awskinesis.StreamMode_PROVISIONED
		sp.ShardCount = jsii.Number(float64(cfg.ShardCount))
	} else {
		sp.StreamMode = awskinesis.StreamMode_ON_DEMAND
	}
	s := awskinesis.NewStream(c, jsii.String("Stream"), sp)
	return &EventStream{Construct: c, Stream: s}
}
