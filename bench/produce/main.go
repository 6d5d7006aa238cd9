package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/streaming"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4567", "Kinesis endpoint")
	events := flag.Int("events", 100000, "events per run")
	aggregate := flag.Bool("aggregate", false, "KPL aggregation")
	senders := flag.Int("senders", 4, "PutRecords calls in flight")
	kafka := flag.Bool("kafka", false, "produce to a topic of one partition on an in-process Kafka cluster (kfake) instead")
	flag.Parse()
	var err error
	if *kafka {
		err = runKafka(*events, *senders)
	} else {
		err = run(*endpoint, *events, *aggregate, *senders)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/produce:", err)
		os.Exit(1)
	}
}

func run(endpoint string, events int, aggregate bool, senders int) error {
	ctx := context.Background()
	cfg, err := awscfg.Load(ctx, awscfg.Options{Endpoint: endpoint})
	if err != nil {
		return err
	}
	client := cfg.Kinesis()
	stream := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		return fmt.Errorf("creating stream: %w", err)
	}
	if err := kinesis.NewStreamExistsWaiter(client).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, time.Minute); err != nil {
		return fmt.Errorf("waiting for the stream: %w", err)
	}
	defer client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)})

	recs, bytes, err := benchEvents(events)
	if err != nil {
		return err
	}
	sink := &shardedSink{KinesisSink: streaming.KinesisSink{API: client, Stream: stream}, src: &streaming.KinesisSource{API: client, Stream: stream}}
	st, el, err := produceAll(ctx, sink, recs, streaming.ProducerConfig{Aggregate: aggregate, Senders: senders})
	if err != nil {
		return err
	}

	// Read everything back: every event must be on the stream.
	read := 0
	rd := &streaming.Reader{Source: sink.src, Limit: 10000, Poll: 10 * time.Millisecond}
	var cp streaming.Checkpoint
	err = rd.CatchUp(ctx, &cp, func(_ context.Context, b streaming.Batch) error {
		for _, r := range b.Records {
			users, agg, err := streaming.Deaggregate(r.Data)
			if err != nil {
				return err
			}
			if agg {
				read += len(users)
			} else {
				read++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	if read != events {
		return fmt.Errorf("read back %d events, produced %d", read, events)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"stream": "kinesis", "aggregate": aggregate, "senders": senders, "events": events,
		"event_bytes": bytes, "seconds": el, "events_per_s": float64(st.Records) / el, "mib_per_s": float64(bytes) / el / (1 << 20),
		"kinesis_records": st.Puts, "kinesis_records_per_s": float64(st.Puts) / el, "retries": st.Retries, "throttled": st.Throttled,
		"failed": st.Failed, "read_back": read})
}

type rec struct {
	key  string
	data []byte
}

// benchEvents generates the events every run puts, the same for both streams.
func benchEvents(events int) ([]rec, int64, error) {
	g, err := gen.New(gen.Config{Seed: 7, Events: events, Start: gen.DefaultStart(time.Now(), 1), Hours: 1, Users: 5000,
		Types: gen.DefaultTypes, Sources: gen.DefaultSources})
	if err != nil {
		return nil, 0, err
	}
	recs := make([]rec, 0, events)
	var bytes int64
	for !g.Done() {
		r := g.Next()
		recs = append(recs, rec{r.UserID, append([]byte(nil), r.Data...)})
		bytes += int64(len(r.Data))
	}
	return recs, bytes, nil
}

// produceAll puts recs through a Producer on sink and returns its stats
// and the seconds it took, Close included.
func produceAll(ctx context.Context, sink streaming.Sink, recs []rec, cfg streaming.ProducerConfig) (streaming.ProducerStats, float64, error) {
	p, err := streaming.NewProducer(ctx, sink, cfg)
	if err != nil {
		return streaming.ProducerStats{}, 0, err
	}
	start := time.Now()
	for _, r := range recs {
		if err := p.Put(ctx, streaming.Record{PartitionKey: r.key, Data: r.data}); err != nil {
			return streaming.ProducerStats{}, 0, err
		}
	}
	if err := p.Close(ctx); err != nil {
		return streaming.ProducerStats{}, 0, err
	}
	return p.Stats(), time.Since(start).Seconds(), nil
}

// runKafka is run against a one-partition topic of an in-process kfake
// cluster, through the same Producer on a KafkaSink, read back with a
// KafkaSource.
func runKafka(events, senders int) error {
	ctx := context.Background()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "bench"))
	if err != nil {
		return err
	}
	defer c.Close()
	cfg := streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "bench"}
	recs, bytes, err := benchEvents(events)
	if err != nil {
		return err
	}
	sink, err := streaming.NewKafkaSink(ctx, cfg)
	if err != nil {
		return err
	}
	defer sink.Close()
	st, el, err := produceAll(ctx, sink, recs, streaming.ProducerConfig{Senders: senders})
	if err != nil {
		return err
	}
	src, err := streaming.NewKafkaSource(ctx, cfg)
	if err != nil {
		return err
	}
	defer src.Close()
	read := 0
	rd := &streaming.Reader{Source: src, Limit: 10000, Poll: 10 * time.Millisecond}
	var cp streaming.Checkpoint
	if err := rd.CatchUp(ctx, &cp, func(_ context.Context, b streaming.Batch) error {
		read += len(b.Records)
		return nil
	}); err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	if read != events {
		return fmt.Errorf("read back %d events, produced %d", read, events)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"stream": "kafka", "aggregate": false, "senders": senders, "events": events,
		"event_bytes": bytes, "seconds": el, "events_per_s": float64(st.Records) / el, "mib_per_s": float64(bytes) / el / (1 << 20),
		"kinesis_records": st.Puts, "kinesis_records_per_s": float64(st.Puts) / el, "retries": st.Retries, "throttled": st.Throttled,
		"failed": st.Failed, "read_back": read})
}

// shardedSink lets the producer group aggregated records by shard.
type shardedSink struct {
	streaming.KinesisSink
	src *streaming.KinesisSource
}

func (s *shardedSink) Shards(ctx context.Context) ([]streaming.Shard, error) {
	return s.src.Shards(ctx)
}
