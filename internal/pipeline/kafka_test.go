package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

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
	c := testenv.Kafka(t, "events", 3)
	rep := runOverKafka(t, c, 7)
	if rep.Speed.Records != 3000 || rep.Speed.Batches < 15 || rep.Produced.Records != 3000 {
		t.Fatalf("speed read %d records in %d batches, produced %d", rep.Speed.Records, rep.Speed.Batches, rep.Produced.Records)
	}
}

// TestKafkaFaults runs the same pipeline with 10% of the cluster's
// data-path requests (produce, fetch, offsets, metadata, offset commits)
// faulted: the connection closed before the broker handles the request, a
// produce refused with NOT_LEADER_OR_FOLLOWER, or latency. Every run
// finishes on its first attempt and reconciles exactly; the idempotent
// producer writes each record once.
func TestKafkaFaults(t *testing.T) {
	// Seeds whose draws fault a produce by the fourth produce request: a
	// run makes 12 to 24 of them, fewer on a loaded machine (franz-go
	// then puts more records in each), and seed 1's first produce fault
	// comes at the fourteenth.
	for _, seed := range []uint64{4, 5, 6} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			c := testenv.Kafka(t, "events", 3)
			faults := testenv.InjectKafkaFaults(c, 0.20, seed)
			// Small producer batches: a produce request each few records,
			// so the faults meet many of them.
			rep := runOverKafka(t, c, 30+seed, kgo.ProducerBatchMaxBytes(48<<10))
			faults.Stop()
			st := faults.Stats()
			t.Logf("kafka faults: %s", st)
			if rep.Produced.Records != 3000 || rep.Speed.Records != 3000 {
				t.Errorf("produced %d records and the speed layer read %d, want 3000 each (written once)", rep.Produced.Records, rep.Speed.Records)
			}
			for _, f := range testenv.AllKafkaFaults {
				if st.Faulted[f] == 0 {
					t.Errorf("no request got %s: the run did not meet it", f)
				}
			}
			for _, k := range []string{"Produce", "Fetch", "OffsetCommit"} {
				if st.Requests[k] == 0 {
					t.Errorf("no %s request went through the injector", k)
				}
			}
		})
	}
}

// runOverKafka runs the pipeline over topic events of c, 3,000 events
// drawn from seed, through a sink made with sinkOpts, and checks that the
// merged view reconciles.
func runOverKafka(t *testing.T, c *kfake.Cluster, seed uint64, sinkOpts ...kgo.Opt) *pipeline.Report {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 14, 59, 0, time.UTC)
	kc := streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "events"}
	sink, err := streaming.NewKafkaSink(ctx, kc, sinkOpts...)
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
		Gen: gen.Config{Seed: seed, Events: 3000, Start: now.Add(-3 * time.Hour), Hours: 3, Users: 300,
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
	if n := rep.Raw["errors/"+string(event.ReasonInvalidJSON)]; n == 0 {
		t.Fatalf("raw routes %v: the bad records should be quarantined", rep.Raw)
	}
	return rep
}
