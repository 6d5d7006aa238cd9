package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lambdastack/lambdastack/streaming"
)

// demoKafka is the demo's in-process Kafka cluster, with the producer and
// the reader of its topic.
type demoKafka struct {
	cluster *kfake.Cluster
	cfg     streaming.KafkaConfig
	sink    *streaming.KafkaSink
	source  *streaming.KafkaSource
}

// startDemoKafka starts a one-broker cluster with topic "demo" of
// partitions partitions; records are stamped with the run's now, as the
// in-process Kinesis stream stamps them.
func startDemoKafka(ctx context.Context, partitions int, now time.Time) (*demoKafka, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(int32(partitions), "demo"))
	if err != nil {
		return nil, fmt.Errorf("starting the in-process Kafka cluster: %w", err)
	}
	k := &demoKafka{cluster: c, cfg: streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "demo"}}
	if k.sink, err = streaming.NewKafkaSink(ctx, k.cfg); err != nil {
		k.close()
		return nil, err
	}
	k.sink.Now = func() time.Time { return now }
	if k.source, err = streaming.NewKafkaSource(ctx, k.cfg); err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

func (k *demoKafka) close() {
	if k.source != nil {
		k.source.Close()
	}
	if k.sink != nil {
		k.sink.Close()
	}
	k.cluster.Close()
}
