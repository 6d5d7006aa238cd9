package batch_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
)

// Wrong input is an error that says what was expected where; a raw
// location whose events are all in open hours publishes nothing.
func TestBatchWrongInput(t *testing.T) {
	ctx := context.Background()
	d := genEvents(21, 200, dataStart, dataEnd, 0)

	t.Run("empty location", func(t *testing.T) {
		out := newLocal(t)
		b := &batch.Builder{Raw: newLocal(t), Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
		_, err := b.Run(ctx)
		if !errors.Is(err, batch.ErrNoRawEvents) || !strings.Contains(err.Error(), "events/dt=YYYY-MM-DD/hour=HH/") {
			t.Fatalf("batch over an empty location: %v, want ErrNoRawEvents saying what was expected", err)
		}
		if objs, _ := out.List(ctx, ""); len(objs) > 0 {
			t.Errorf("batch over an empty location wrote %d objects, e.g. %s", len(objs), objs[0].Key)
		}
	})
	t.Run("one level too high", func(t *testing.T) {
		top := newLocal(t)
		raw, err := storage.NewLocal(filepath.Join(top.Location(), "raw"))
		if err != nil {
			t.Fatal(err)
		}
		writeRaw(t, raw, d.events, nil, "fh")
		b := &batch.Builder{Raw: top, Out: newLocal(t), Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
		_, err = b.Run(ctx)
		want := "did you mean " + filepath.Join(top.Location(), "raw") + "?"
		if !errors.Is(err, batch.ErrNoRawEvents) || !strings.Contains(err.Error(), want) {
			t.Fatalf("batch one level too high: %v, want ErrNoRawEvents with %q", err, want)
		}
	})
	t.Run("no hour closed yet", func(t *testing.T) {
		raw, out := newLocal(t), newLocal(t)
		writeRaw(t, raw, d.events, nil, "fh")
		b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(dataStart), Lateness: batch.DefaultLateness}
		sum, err := b.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Unpublished == "" || !strings.Contains(sum.Unpublished, "no batch view published") {
			t.Errorf("Unpublished = %q, want why nothing was published", sum.Unpublished)
		}
		if _, err := storage.ReadManifest(ctx, out, batch.BatchManifestKey); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("a manifest was published with no hour closed (%v)", err)
		}
	})
}

// A merge needs a published batch view; one location too high says where
// the manifest is.
func TestMergeWrongInput(t *testing.T) {
	ctx := context.Background()
	d := genEvents(22, 200, dataStart, dataEnd, 0)
	raw, top := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	views, err := storage.NewLocal(filepath.Join(top.Location(), "views"))
	if err != nil {
		t.Fatal(err)
	}
	b := &batch.Builder{Raw: raw, Out: views, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	m := &batch.Merger{Batch: top, Speed: top, Out: top, Now: fixedNow(runAt)}
	_, err = m.Run(ctx)
	want := "did you mean " + views.Location() + "?"
	if !errors.Is(err, batch.ErrNoBatchView) || !strings.Contains(err.Error(), want) {
		t.Fatalf("merge one level too high: %v, want ErrNoBatchView with %q", err, want)
	}
	m = &batch.Merger{Batch: views, Speed: views, Out: views, Now: fixedNow(runAt)}
	if _, err := m.Run(ctx); err != nil {
		t.Fatalf("merge at the right level: %v", err)
	}
}

// The scheduled Lambdas of a deployment that has no events yet skip their
// run instead of failing it: nothing is published.
func TestHandlersBeforeFirstEvents(t *testing.T) {
	ctx := context.Background()
	raw, views := newLocal(t), newLocal(t)
	bh := &batch.BatchHandler{Raw: raw, Views: views, Lateness: batch.DefaultLateness, Now: fixedNow(runAt)}
	out, err := bh.Handle(ctx, batch.BatchRequest{})
	if err != nil || out.(*batch.BatchResponse).Status != batch.StatusSkipped {
		t.Fatalf("batch handler before any event: %+v, %v", out, err)
	}
	mh := &batch.MergeHandler{Views: views, Now: fixedNow(runAt)}
	if res, err := mh.Handle(ctx, json.RawMessage(`{}`)); err != nil || res.Status != batch.StatusOK || res.Days != 0 {
		t.Fatalf("merge handler before any batch run: %+v, %v", res, err)
	}
	if objs, _ := views.List(ctx, ""); len(objs) > 0 {
		t.Errorf("handlers published %d objects with no events, e.g. %s", len(objs), objs[0].Key)
	}
}

// Before the first batch view, the scheduled merge serves the speed view
// alone, so a new deployment's serving view is fresh from its first
// events; the first batch run then takes over the hours before its
// watermark. The command line's merge still calls a missing batch view an
// error (TestMergeWrongInput).
func TestMergeHandlerServesSpeedBeforeFirstBatch(t *testing.T) {
	ctx := context.Background()
	d := genEvents(23, 400, dataStart, dataEnd, 0.1)
	raw, views := newLocal(t), newLocal(t)
	writeSpeed(t, views, d.events)
	mh := &batch.MergeHandler{Views: views, Now: fixedNow(runAt)}
	res, err := mh.Handle(ctx, json.RawMessage(`{}`))
	if err != nil || res.Status != batch.StatusOK || res.Days == 0 || !res.Watermark.IsZero() {
		t.Fatalf("merge handler with speed objects and no batch view: %+v, %v; want ok, days, a zero watermark", res, err)
	}
	hours := readView(t, views, "merged/", agg.Hour)
	for _, r := range hours {
		if r.Layer != "speed" {
			t.Fatalf("merged row %v is from the %s layer before any batch run", r.Key(), r.Layer)
		}
	}
	checkRows(t, "speed-only merged hours", hours, expected(d.events, agg.Hour, nil))

	writeRaw(t, raw, d.events, nil, "fh")
	bh := &batch.BatchHandler{Raw: raw, Views: views, Lateness: batch.DefaultLateness, Now: fixedNow(runAt)}
	if _, err := bh.Handle(ctx, batch.BatchRequest{}); err != nil {
		t.Fatal(err)
	}
	res, err = mh.Handle(ctx, json.RawMessage(`{}`))
	if err != nil || res.Watermark.IsZero() {
		t.Fatalf("merge after the first batch run: %+v, %v", res, err)
	}
	hours = readView(t, views, "merged/", agg.Hour)
	for _, r := range hours {
		if want := map[bool]string{true: "batch", false: "speed"}[r.WindowStart.Before(res.Watermark)]; r.Layer != want {
			t.Errorf("merged row %v: layer %s, want %s (watermark %s)", r.Key(), r.Layer, want, res.Watermark)
		}
	}
	checkRows(t, "merged hours after the first batch", hours, expected(d.events, agg.Hour, nil))
}
