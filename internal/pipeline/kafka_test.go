package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
)

// TestRunOverKafkaReconciles runs the whole pipeline over an in-process
// Kafka cluster: the Kafka producer, the transform fed MSK-source events,
// the speed handler fed by a consumer group. The merged view must
// reconcile exactly, as over Kinesis.
func TestRunOverKafkaReconciles(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 14, 59, 0, time.UTC)
	c := testenv.Kafka(t, "events", 3)
	kc := streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "events"}
	sink, err := streaming.NewKafkaSink(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.Now = func() time.Time { return now }
	src, err := streaming.NewKafkaSource(ctx, kc)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	raw, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vs, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := pipeline.Run(ctx, pipeline.Config{
		Gen: gen.Config{Seed: 7, Events: 3000, Start: now.Add(-3 * time.Hour), Hours: 3, Users: 300,
			Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.03, DupRatio: 0.05, LateRatio: 0.05},
		Now: now, Lateness: 15 * time.Minute, Stream: "events", Sink: sink, Source: src,
		Kafka:       &pipeline.Kafka{Config: kc, Group: "speed"},
		BufferBytes: 64 << 10, ReadLimit: 200, Raw: raw, Views: vs,
	})
	if err != nil {
		t.Fatal(err)
	}
	rc := rep.Reconciled
	if !rc.OK() || rc.Expected != int64(rep.Generated.Unique) {
		t.Fatalf("expected %d of %d, problems %v", rc.Expected, rep.Generated.Unique, rc.Problems)
	}
	if rc.Events["batch"] == 0 || rc.Events["speed"] == 0 {
		t.Fatalf("events by layer %v: both layers should hold some", rc.Events)
	}
	if rep.Speed.Records != 3000 || rep.Speed.Batches < 15 || rep.Produced.Records != 3000 {
		t.Fatalf("speed read %d records in %d batches, produced %d", rep.Speed.Records, rep.Speed.Batches, rep.Produced.Records)
	}
	if n := rep.Raw["errors/"+string(event.ReasonInvalidJSON)]; n == 0 {
		t.Fatalf("raw routes %v: the bad records should be quarantined", rep.Raw)
	}
}
