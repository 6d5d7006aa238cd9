package pipeline_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
)

// TestIntegrationFaults runs the pipeline on the emulator with every AWS
// call going through a fault proxy that faults 10% of the requests (503
// SlowDown, 500 InternalError, dropped connections and replies cut off
// half-way after the emulator did the request, added latency): producer →
// Kinesis → Firehose runner → S3, the speed handler reading Kinesis and
// writing S3, batch and merge on S3. The run finishes on its first attempt
// and the merged view reconciles exactly. Three runs, each with its own
// draw of faults.
func TestIntegrationFaults(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { faultyRun(t, seed) })
	}
}

func faultyRun(t *testing.T, seed uint64) {
	ctx := context.Background()
	rawBucket, viewsBucket := testenv.Bucket(t), testenv.Bucket(t)
	streamName := testenv.Stream(t, 2)
	proxy := testenv.NewFaultProxy(t, testenv.Endpoint(t), 0.10, seed)
	cfg, err := awscfg.Load(ctx, awscfg.Options{Endpoint: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := storage.OpenWith(ctx, "s3://"+rawBucket+"/", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := storage.OpenWith(ctx, "s3://"+viewsBucket+"/", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	kc := cfg.Kinesis()
	now := time.Now().UTC()
	rep, err := pipeline.Run(ctx, pipeline.Config{
		Gen: gen.Config{Seed: 13, Events: 1500, Start: now.Add(-3 * time.Hour), Hours: 3, Users: 200,
			Types: gen.DefaultTypes[:5], Sources: gen.DefaultSources, BadRatio: 0.03, DupRatio: 0.03, LateRatio: 0.05},
		Now:         now,
		Lateness:    15 * time.Minute,
		Stream:      streamName,
		Sink:        &streaming.KinesisSink{API: kc, Stream: streamName},
		Source:      &streaming.KinesisSource{API: kc, Stream: streamName},
		Producer:    streaming.ProducerConfig{Senders: 1}, // moto loses records under concurrent writers
		BufferBytes: 64 << 10,
		ReadLimit:   200,
		Raw:         raw,
		Views:       vs,
		Log:         testWriter{t},
		// A dropped or cut reply to PutRecords makes the SDK send the
		// records again: Kinesis holds them twice, as it may in AWS.
		Redelivery: true,
	})
	st := proxy.Stats()
	t.Logf("fault proxy: %s", st)
	if err != nil {
		t.Fatalf("the run failed under faults: %v", err)
	}
	rep.Write(testWriter{t})
	rc := rep.Reconciled
	if !rc.OK() {
		t.Fatalf("the merged view does not reconcile under faults: %v", rc.Problems)
	}
	if rc.Expected == 0 || rc.Events["batch"] == 0 || rc.Events["speed"] == 0 {
		t.Fatalf("reconciled %d events (batch %d, speed %d)", rc.Expected, rc.Events["batch"], rc.Events["speed"])
	}
	for _, f := range testenv.AllFaults {
		if st.Faulted[f] == 0 {
			t.Errorf("no request got %s: the run did not meet it", f)
		}
	}
}
