package batch_test

import (
	"context"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestIntegrationBatchMergeS3 runs batch, late data and merge with every
// location on S3 (the emulator): raw in one bucket, the three views under
// one prefix of another.
func TestIntegrationBatchMergeS3(t *testing.T) {
	cfg := testenv.Config(t)
	ctx := context.Background()
	rawBucket, viewBucket := testenv.Bucket(t), testenv.Bucket(t)
	raw, err := storage.OpenWith(ctx, "s3://"+rawBucket+"/", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := storage.OpenWith(ctx, "s3://"+viewBucket+"/views", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC)
	end := time.Date(2026, 11, 21, 12, 40, 0, 0, time.UTC)
	d := genEvents(5, 1500, start, end, 0.15)
	writeRaw(t, raw, d.events, d.bad, "fh")
	writeSpeed(t, out, d.events)

	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Late data for 09:00, then the next run rebuilds that hour only.
	lateHour := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	late := genEvents(6, 100, lateHour, lateHour.Add(time.Hour), 0)
	writeRaw(t, raw, late.events, nil, "late")
	b.Now = fixedNow(runAt.Add(5 * time.Minute))
	sum, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hours) != 1 || !sum.Hours[0].Equal(lateHour) {
		t.Fatalf("rebuilt %v, want only %s", sum.Hours, lateHour)
	}
	all := append(append([]eventT(nil), d.events...), late.events...)

	m := &batch.Merger{Batch: out, Speed: out, Out: out, Now: b.Now}
	if _, err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "merged hours on S3", readView(t, out, "merged/", agg.Hour), expected(all, agg.Hour, nil))
	checkRows(t, "merged days on S3", readView(t, out, "merged/", agg.Day), expected(all, agg.Day, nil))
}
