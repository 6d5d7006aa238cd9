package batch_test

import (
	"context"
	"encoding/json"
	"math"
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

// TestMergePublishesUsersView: batch then merge on data spanning two days
// (the second holding the watermark) publish users/ at hour and day
// granularity, each rollup row within hll.Tolerance of the exact distinct users, with
// the layers of the merged rows it came from, listed in the merged manifest;
// a merged day without a users view (merged before it existed) gets one on
// the next merge.
func TestMergePublishesUsersView(t *testing.T) {
	ctx := context.Background()
	d := genEvents(2, 6000, dataStart, dataEnd, 0.2)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, d.bad, "firehose")
	writeSpeed(t, out, d.events)
	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	m := &batch.Merger{Batch: out, Speed: out, Out: out, Now: fixedNow(runAt)}
	sum, err := m.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wm := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	// The exact distinct users of every rollup level.
	type level struct {
		g        agg.Granularity
		w        time.Time
		typ, src string
	}
	exact := map[level]map[string]bool{}
	for _, e := range d.events {
		for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
			w := agg.Window(e.EventTime, g)
			for _, l := range []level{{g, w, e.EventType, glue.All}, {g, w, glue.All, e.Source}, {g, w, glue.All, glue.All}} {
				if exact[l] == nil {
					exact[l] = map[string]bool{}
				}
				exact[l][e.UserID] = true
			}
		}
	}
	var rows, dense int
	for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
		got := readView(t, out, glue.UsersView.Prefix, g)
		merged := readView(t, out, glue.MergedView.Prefix, g)
		speedWindows := map[time.Time]bool{}
		for _, r := range merged {
			if r.Layer == views.LayerSpeed {
				speedWindows[r.WindowStart] = true
			}
		}
		seen := map[level]bool{}
		var worst float64
		for _, r := range got {
			l := level{g, r.WindowStart, r.EventType, r.Source}
			if seen[l] {
				t.Errorf("%s row %v twice", g, r.Key())
			}
			seen[l] = true
			want := len(exact[l])
			if want == 0 {
				t.Errorf("%s row %v counts users no event has", g, r.Key())
				continue
			}
			rel := math.Abs(float64(r.Users)-float64(want)) / float64(want)
			worst = max(worst, rel)
			if rel > hll.Tolerance {
				t.Errorf("%s row %v: %d users, exact %d", g, r.Key(), r.Users, want)
			}
			checkSketch(t, string(g)+" users view", r, exact[l])
			if want >= 512 {
				dense++
			}
			if wantLayer := map[bool]string{true: views.LayerSpeed, false: views.LayerBatch}[speedWindows[r.WindowStart]]; r.Layer != wantLayer || !r.Watermark.Equal(wm) {
				t.Errorf("%s row %v: layer %s watermark %s, want %s %s", g, r.Key(), r.Layer, r.Watermark, wantLayer, wm)
			}
		}
		for l := range exact {
			if l.g == g && !seen[l] {
				t.Errorf("no %s row %v", g, l)
			}
		}
		if g == agg.Day && (!speedWindows[wm.Truncate(24*time.Hour)] || speedWindows[dataStart.Truncate(24*time.Hour)]) {
			t.Errorf("day layers %v: want speed on the watermark's day only", speedWindows)
		}
		rows += len(got)
		t.Logf("%s: %d users rows, worst error %.4f", g, len(got), worst)
	}
	if sum.UserRows != rows {
		t.Errorf("summary says %d users rows, %d written", sum.UserRows, rows)
	}
	if dense == 0 {
		t.Error("no users row has 512 users or more: the dense form went untested")
	}

	man, err := storage.ReadManifest(ctx, out, batch.MergedManifestKey)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, o := range man.Objects {
		listed[o.Key] = true
	}
	for _, dt := range []string{"2026-11-20", "2026-11-21"} {
		for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
			if k := batch.PartitionKey(glue.UsersView, g, dt); !listed[k] {
				t.Errorf("the merged manifest does not list %s", k)
			}
		}
	}

	t.Run("backfill", func(t *testing.T) {
		// As a merge from before the users view left it: no users/
		// objects and no users digests in the manifest.
		var meta batch.MergedMeta
		if err := json.Unmarshal(man.Meta, &meta); err != nil {
			t.Fatal(err)
		}
		meta.Users = nil
		raw, _ := json.Marshal(meta)
		man.Meta = raw
		var kept []storage.ObjectInfo
		for _, o := range man.Objects {
			if strings.HasPrefix(o.Key, glue.UsersView.Prefix) {
				if err := out.Delete(ctx, o.Key); err != nil {
					t.Fatal(err)
				}
				continue
			}
			kept = append(kept, o)
		}
		man.Objects = kept
		if err := storage.Publish(ctx, out, batch.MergedManifestKey, man); err != nil {
			t.Fatal(err)
		}
		again, err := m.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(again.Days, ",") != "2026-11-20,2026-11-21" {
			t.Errorf("rewrote days %v, want both", again.Days)
		}
		if again.UserRows != rows {
			t.Errorf("backfill wrote %d users rows, want %d", again.UserRows, rows)
		}
		// Afterwards only the watermark's day is rewritten again.
		third, err := m.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(third.Days, ",") != "2026-11-21" {
			t.Errorf("rewrote days %v, want the watermark's only", third.Days)
		}
	})
}
