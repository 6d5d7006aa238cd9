package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
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
	proxy := testenv.NewFaultProxy(t, testenv.Endpoint(t), 0.10, seed)
	rep, err := pipeline.Run(ctx, faultyConfig(t, proxy, 10+seed))
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

// faultyConfig is a pipeline run of its own buckets and stream on the
// emulator, every AWS call going through proxy, with events drawn from
// genSeed.
func faultyConfig(t *testing.T, proxy *testenv.FaultProxy, genSeed uint64) pipeline.Config {
	t.Helper()
	cfg, err := awscfg.Load(context.Background(), awscfg.Options{Endpoint: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	rc := emulatorRun(t, cfg, testenv.Bucket(t), testenv.Bucket(t), testenv.Stream(t, 2), genSeed)
	rc.BufferBytes, rc.ReadLimit = 64<<10, 200
	// A dropped or cut reply to PutRecords makes the SDK send the records
	// again: Kinesis holds them twice, as it may in AWS.
	rc.Redelivery = true
	return rc
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

// TestIntegrationReadFaults breaks 40% of the reads (GET and HEAD: the
// raw and view objects, the manifests) by dropping the connection or
// cutting the reply off half-way, and runs a second round of merge and
// batch after the pipeline, as every hourly run after the first does: it
// reads the manifests the first round committed. Every read resumes or is
// retried, the second merge republishes the same rows, the second batch
// finds nothing new, and the view still reconciles. (A manifest read that
// did not resume a cut body once failed the second round's commit.)
func TestIntegrationReadFaults(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			ctx := context.Background()
			proxy := testenv.NewFaultProxy(t, testenv.Endpoint(t), 0.4, seed, testenv.FaultCut, testenv.FaultDrop)
			proxy.Only = func(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }
			rc := faultyConfig(t, proxy, 20+seed)
			rep, err := pipeline.Run(ctx, rc)
			if err != nil {
				t.Fatalf("the run failed with its reads faulted: %v (%s)", err, proxy.Stats())
			}
			if !rep.Reconciled.OK() {
				t.Fatalf("the merged view does not reconcile: %v", rep.Reconciled.Problems)
			}
			now := func() time.Time { return rc.Now }
			first := proxy.Stats()
			m, err := (&batch.Merger{Batch: rc.Views, Speed: rc.Views, Out: rc.Views, Now: now}).Run(ctx)
			if err != nil {
				t.Fatalf("the second merge: %v (%s)", err, proxy.Stats())
			}
			if m.Status != batch.StatusOK || m.HourRows != rep.Merge.HourRows || m.DayRows != rep.Merge.DayRows {
				t.Errorf("the second merge: %s, %d hour rows and %d day rows; the first published %d and %d",
					m.Status, m.HourRows, m.DayRows, rep.Merge.HourRows, rep.Merge.DayRows)
			}
			b, err := (&batch.Builder{Raw: rc.Raw, Out: rc.Views, Now: now, Lateness: rc.Lateness}).Run(ctx)
			if err != nil {
				t.Fatalf("the second batch: %v (%s)", err, proxy.Stats())
			}
			if b.Status != batch.StatusSkipped {
				t.Errorf("the second batch: %s, want %s (no raw object is new)", b.Status, batch.StatusSkipped)
			}
			rec, err := pipeline.Reconcile(ctx, rc.Views, rep.Expected, rep.Generated, rep.Raw)
			if err != nil || !rec.OK() {
				t.Fatalf("after the second round: %v %v", err, rec.Problems)
			}
			st := proxy.Stats()
			t.Logf("fault proxy: %s; the second round %d reads, %d faulted", st, st.Requests-first.Requests, st.Total()-first.Total())
			if st.Total()-first.Total() == 0 || st.Faulted[testenv.FaultCut] == 0 || st.Faulted[testenv.FaultDrop] == 0 {
				t.Errorf("%s (first round %s): want both faults, some in the second round", st, first)
			}
		})
	}
}
