package views_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/views"
)

// TestUserRollup builds merged hour rows (batch before the watermark, speed
// from it on) from events whose users recur across event types, sources
// and hours, rolls them up per hour and, through the day rows, per day,
// and compares every rollup row with the exact distinct users.
func TestUserRollup(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	wm := day.Add(15 * time.Hour)
	types := []string{"click", "page_view", "purchase", "search"}
	sources := []string{"android", "ios", "web"}
	hours := agg.Table{}
	type level struct {
		g        agg.Granularity
		w        time.Time
		typ, src string
	}
	exact := map[level]map[string]bool{}
	see := func(l level, user string) {
		if exact[l] == nil {
			exact[l] = map[string]bool{}
		}
		exact[l][user] = true
	}
	for i := range 60000 {
		h := day.Add(time.Duration(rng.IntN(24)) * time.Hour)
		typ, src := types[rng.IntN(len(types))], sources[rng.IntN(len(sources))]
		user := fmt.Sprintf("user-%d", rng.IntN(8000))
		k := agg.Key{WindowStart: h, EventType: typ, Source: src}
		hours.Get(k, false).Add(agg.Fingerprint(fmt.Sprint(i)), agg.UserHash(user), 1)
		for _, l := range []level{{g: agg.Hour, w: h}, {g: agg.Day, w: day}} {
			see(level{l.g, l.w, typ, glue.All}, user)
			see(level{l.g, l.w, glue.All, src}, user)
			see(level{l.g, l.w, glue.All, glue.All}, user)
		}
	}
	hourRows, err := views.Rows(hours)
	if err != nil {
		t.Fatal(err)
	}
	for i := range hourRows {
		hourRows[i].Layer, hourRows[i].Watermark = views.LayerBatch, wm
		if !hourRows[i].WindowStart.Before(wm) {
			hourRows[i].Layer = views.LayerSpeed
		}
	}
	days, err := hours.Rollup(agg.Day)
	if err != nil {
		t.Fatal(err)
	}
	dayRows, err := views.Rows(days)
	if err != nil {
		t.Fatal(err)
	}
	for i := range dayRows {
		dayRows[i].Layer, dayRows[i].Watermark = views.LayerSpeed, wm // the watermark's day holds speed hours
	}

	for _, tc := range []struct {
		name    agg.Granularity
		rows    []views.Row
		windows int
	}{{agg.Hour, hourRows, 24}, {agg.Day, dayRows, 1}} {
		t.Run(string(tc.name), func(t *testing.T) {
			got, err := views.UserRollup(tc.rows)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.windows * (len(types) + len(sources) + 1); len(got) != want {
				t.Fatalf("%d rollup rows, want %d (types + sources + overall per window)", len(got), want)
			}
			var worst float64
			for i, r := range got {
				if i > 0 && !got[i-1].Key().Less(r.Key()) {
					t.Fatalf("rows out of key order at %d: %v then %v", i, got[i-1].Key(), r.Key())
				}
				if r.EventType != glue.All && r.Source != glue.All {
					t.Fatalf("row %v is not a rollup level", r.Key())
				}
				want := len(exact[level{tc.name, r.WindowStart, r.EventType, r.Source}])
				rel := math.Abs(float64(r.Users)-float64(want)) / float64(want)
				worst = max(worst, rel)
				if rel > hll.Tolerance {
					t.Errorf("%v: %d users, exact %d (error %.4f > %.4f)", r.Key(), r.Users, want, rel, hll.Tolerance)
				}
				wantLayer := views.LayerSpeed
				if tc.name == agg.Hour && r.WindowStart.Before(wm) {
					wantLayer = views.LayerBatch
				}
				if r.Layer != wantLayer || !r.Watermark.Equal(wm) {
					t.Errorf("%v: layer %s watermark %s, want %s %s", r.Key(), r.Layer, r.Watermark, wantLayer, wm)
				}
				// The sketch decodes and agrees with the estimate.
				a, err := r.Aggregate()
				if err != nil || a.UsersEstimate() != r.Users {
					t.Errorf("%v: sketch estimate %v (err %v), users %d", r.Key(), a, err, r.Users)
				}
			}
			t.Logf("%d rows, worst error %.4f", len(got), worst)
		})
	}

	t.Run("adding estimates overcounts", func(t *testing.T) {
		// The reason for the table: summing the per-key estimates of a
		// day counts a user once per (type, source) they were seen under.
		var sum int64
		for _, r := range dayRows {
			sum += r.Users
		}
		dau := len(exact[level{agg.Day, day, glue.All, glue.All}])
		if float64(sum) < 1.5*float64(dau) {
			t.Fatalf("summed estimates %d vs %d distinct: the fixture does not show the overcount", sum, dau)
		}
	})

	t.Run("mixed layers in one window", func(t *testing.T) {
		rows := append([]views.Row(nil), dayRows[:2]...)
		rows[0].Layer, rows[1].Layer = views.LayerBatch, views.LayerSpeed
		rows[0].EventType, rows[1].EventType = "click", "click"
		rows[0].Source, rows[1].Source = "web", "ios"
		got, err := views.UserRollup(rows)
		if err != nil {
			t.Fatal(err)
		}
		layers := map[string]string{}
		for _, r := range got {
			layers[r.EventType+"/"+r.Source] = r.Layer
		}
		want := map[string]string{"click/*": "speed", "*/*": "speed", "*/web": "batch", "*/ios": "speed"}
		if fmt.Sprint(layers) != fmt.Sprint(want) {
			t.Fatalf("layers %v, want %v", layers, want)
		}
	})

	t.Run("a source named *", func(t *testing.T) {
		rows := append([]views.Row(nil), dayRows[:1]...)
		rows[0].Source = glue.All
		got, err := views.UserRollup(rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d rows, want the type's and the overall one: %v", len(got), got)
		}
	})

	t.Run("a broken sketch", func(t *testing.T) {
		rows := append([]views.Row(nil), dayRows[:1]...)
		rows[0].UsersSketch = []byte{1, 2, 3}
		if _, err := views.UserRollup(rows); err == nil {
			t.Fatal("a broken sketch was accepted")
		}
	})

	t.Run("no rows", func(t *testing.T) {
		got, err := views.UserRollup(nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("%v %v", got, err)
		}
	})
}
