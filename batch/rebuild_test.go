package batch_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// TestRebuildReplacesOldSketches: a batch view written with the old
// (axiomhq) sketches makes the merge fail with a message naming the
// rebuild command; `batch --rebuild` rebuilds every hour from raw, and the
// next merge rewrites every day with sketches of the distinct users.
func TestRebuildReplacesOldSketches(t *testing.T) {
	ctx := context.Background()
	d := genEvents(3, 4000, dataStart, dataEnd, 0.1)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, d.bad, "firehose")
	writeSpeed(t, out, d.events)
	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}

	// What the views held before: axiomhq's encoding (version 2, p = 14).
	infos, err := out.List(ctx, glue.BatchView.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range infos {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		data, err := storage.ReadAll(ctx, out, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			rows[i].UsersSketch = []byte{2, 14, 0, 1, 0, 0, 0, 0, 0, 0}
		}
		if data, err = views.Encode(glue.BatchView, rows); err != nil {
			t.Fatal(err)
		}
		put(t, out, o.Key, data)
	}

	m := &batch.Merger{Batch: out, Speed: out, Out: out, Now: fixedNow(runAt)}
	_, err = m.Run(ctx)
	if !errors.Is(err, hll.ErrOldFormat) || !strings.Contains(err.Error(), "lambdastack batch --rebuild") {
		t.Fatalf("merge over old sketches: error %v, want one naming lambdastack batch --rebuild", err)
	}

	if sum, err := b.Run(ctx); err != nil || len(sum.Hours) != 0 {
		t.Fatalf("a plain rerun rebuilt %d hours (err %v), want none: the raw input did not change", len(sum.Hours), err)
	}
	b.Rebuild = true
	sum, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hours := int(runAt.Truncate(time.Hour).Sub(dataStart) / time.Hour); len(sum.Hours) != hours {
		t.Errorf("--rebuild built %d hours, want all %d", len(sum.Hours), hours)
	}
	if _, err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	checkRows(t, "merged hours", readView(t, out, glue.MergedView.Prefix, agg.Hour), expected(d.events, agg.Hour, nil))
	checkRows(t, "merged days", readView(t, out, glue.MergedView.Prefix, agg.Day), expected(d.events, agg.Day, nil))
}
