package pipeline_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/pipeline"
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
	rc := emulatorRun(t, cfg, rawBucket, viewsBucket, streamName, 10+seed)
	rc.BufferBytes, rc.ReadLimit = 64<<10, 200
	// A dropped or cut reply to PutRecords makes the SDK send the records
	// again: Kinesis holds them twice, as it may in AWS.
	rc.Redelivery = true
	rep, err := pipeline.Run(ctx, rc)
	st := proxy.Stats()
	t.Logf("fault proxy: %s", st)
	if err != nil {
		t.Fatalf("the run failed under faults: %v", err)
	}
	rep.Write(testWriter{t})
	rec := rep.Reconciled
	if !rec.OK() {
		t.Fatalf("the merged view does not reconcile under faults: %v", rec.Problems)
	}
	if rec.Expected == 0 || rec.Events["batch"] == 0 || rec.Events["speed"] == 0 {
		t.Fatalf("reconciled %d events (batch %d, speed %d)", rec.Expected, rec.Events["batch"], rec.Events["speed"])
	}
	for _, f := range testenv.AllFaults {
		if st.Faulted[f] == 0 {
			t.Errorf("no request got %s: the run did not meet it", f)
		}
	}
}

// Permanent Kinesis errors fail at once, in one line: putting on and
// reading a stream that does not exist each take one request.
func TestIntegrationKinesisPermanentErrorsFailAtOnce(t *testing.T) {
	ctx := context.Background()
	proxy := testenv.NewFaultProxy(t, testenv.Endpoint(t), 0, 1)
	cfg, err := awscfg.Load(ctx, awscfg.Options{Endpoint: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	missing := testenv.Name(t, "nostream")
	kc := cfg.Kinesis()
	p, err := streaming.NewProducer(ctx, &streaming.KinesisSink{API: kc, Stream: missing}, streaming.ProducerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Put(ctx, streaming.Record{PartitionKey: "k", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	err = p.Close(ctx)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("producing to a missing stream: %v, want one line naming ResourceNotFoundException", err)
	}
	if n := proxy.Stats().Requests; n != 1 {
		t.Errorf("producing to a missing stream took %d requests, want 1", n)
	}
	t.Logf("producer: %v", err)
	src := &streaming.KinesisSource{API: kc, Stream: missing}
	if _, err := src.Shards(ctx); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("reading a missing stream: %v", err)
	}
	if n := proxy.Stats().Requests; n != 2 {
		t.Errorf("reading a missing stream took %d more requests, want 1", n-1)
	}
}
