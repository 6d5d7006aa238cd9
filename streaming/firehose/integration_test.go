package firehose_test

import (
	"context"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/firehose"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestIntegrationIngest runs the ingest path against the emulator: 50,000
// generated events (2% bad, every reason) produced to a Kinesis stream with
// one writer, the local Firehose runner into S3, then reconciliation read
// back from S3: valid events under events/ plus quarantined records under
// errors/<reason>/ equal the events produced, reason by reason.
func TestIntegrationIngest(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.Config(t)
	stream := testenv.Stream(t, 2)
	bucket := testenv.Bucket(t)
	client := cfg.Kinesis()

	g, err := gen.New(gen.Config{Seed: 42, Events: 50000, BadRatio: 0.02, DupRatio: 0.005, Start: gen.DefaultStart(time.Now(), 3), Hours: 3,
		Users: 2000, Types: gen.DefaultTypes, Sources: gen.DefaultSources})
	if err != nil {
		t.Fatal(err)
	}
	// One sender: moto loses records under concurrent PutRecords calls.
	p, err := streaming.NewProducer(ctx, &streaming.KinesisSink{API: client, Stream: stream}, streaming.ProducerConfig{Senders: 1})
	if err != nil {
		t.Fatal(err)
	}
	for !g.Done() {
		rec := g.Next()
		key := rec.UserID
		if key == "" {
			key = "no-user"
		}
		if err := p.Put(ctx, streaming.Record{PartitionKey: key, Data: append([]byte(nil), rec.Data...)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("producing: %v", err)
	}
	sum := g.Summary()
	if st := p.Stats(); st.Records != int64(sum.Events) || st.Failed != 0 {
		t.Fatalf("producer: %+v, generated %d", st, sum.Events)
	}
	if sum.RejectedTotal < 900 || len(sum.Rejected) != len(sumReasons()) {
		t.Fatalf("the generator made %d bad records over %d reasons: %+v", sum.RejectedTotal, len(sum.Rejected), sum.Rejected)
	}

	store, err := storage.OpenWith(ctx, "s3://"+bucket+"/raw", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := &streaming.KinesisSource{API: client, Stream: stream}
	runner := &firehose.Runner{Source: src, Store: store, Transform: &transform.Handler{}, Stream: stream, BufferBytes: 1 << 20, ReadLimit: 5000}
	if err := runner.CatchUp(ctx); err != nil {
		t.Fatalf("runner: %v", err)
	}
	got, err := firehose.Count(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"events": int64(sum.Accepted)}
	for r, n := range sum.Rejected {
		want["errors/"+string(r)] = int64(n)
	}
	var total int64
	for route, n := range got {
		total += n
		if want[route] != n {
			t.Errorf("%s: %d lines in S3, want %d", route, n, want[route])
		}
	}
	for route, n := range want {
		if _, ok := got[route]; !ok {
			t.Errorf("%s: nothing in S3, want %d", route, n)
		}
	}
	if total != int64(sum.Events) {
		t.Errorf("%d lines in S3, %d events produced", total, sum.Events)
	}
	t.Logf("produced %d, in S3: %v", sum.Events, got)

	// A new runner resumes from the checkpoint in S3 and finds nothing new.
	again := &firehose.Runner{Source: src, Store: store, Transform: &transform.Handler{}, Stream: stream}
	if err := again.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := again.Stats().Records; n != 0 {
		t.Errorf("the resumed runner transformed %d records again", n)
	}
}

func sumReasons() []string {
	return []string{"invalid_json", "not_utf8", "too_large", "missing_field", "bad_type", "bad_value", "future_time"}
}
