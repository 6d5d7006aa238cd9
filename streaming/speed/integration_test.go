package speed_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Events produced to Kinesis on the emulator by one writer (moto loses
// records under concurrent writers), read by the local runner, written to
// S3 on the emulator: the speed view holds every valid event once, although
// writes fail and are retried, Lambda runs a batch twice, and the producer
// sends some events again.
func TestIntegrationSpeedKinesisToS3(t *testing.T) {
	ctx := context.Background()
	cfg := testenv.Config(t)
	bucket := testenv.Bucket(t)
	name := testenv.Stream(t, 2)
	sink := &streaming.KinesisSink{API: cfg.Kinesis(), Stream: name}
	base := time.Now().UTC().Add(-2 * time.Hour)
	invalid := produce(t, sink, base, 0, 300)
	invalid += produce(t, sink, base, 250, 50) // the producer retries e250..e299

	st, err := storage.OpenWith(ctx, "s3://"+bucket+"/views", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	flaky := &flakyStore{Store: st, n: 3, failed: map[string]bool{}}
	h := &speed.Handler{Store: flaky}
	r := &speed.Runner{Source: &streaming.KinesisSource{API: cfg.Kinesis(), Stream: name},
		Handler: twice{h}, Stream: name, BatchSize: 40, Checkpoints: st}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	stats := r.Stats()
	if stats.Retries == 0 {
		t.Fatalf("stats %+v: no batch was retried", stats)
	}
	tbl, objs := readView(t, st)
	if n, sum := totals(tbl); n != 300 || sum != 300 {
		t.Fatalf("speed view holds %d events (value_sum %g) in %d objects, want the 300 valid events produced", n, sum, len(objs))
	}
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, "speed/dt=") || !strings.Contains(o.Key, "/shardId-") {
			t.Errorf("unexpected object %s", o.Key)
		}
	}
	t.Logf("%d stream records in %d batches, %d invocations (%d retries), %d invalid records produced, %d objects",
		stats.Records, stats.Batches, stats.Invocations, stats.Retries, invalid, len(objs))
}
