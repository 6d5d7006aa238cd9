package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// TestReconcileCatchesErrors writes a correct merged view, then breaks it
// in the ways a pipeline bug would, and checks each is reported.
func TestReconcileCatchesErrors(t *testing.T) {
	ctx := context.Background()
	wm := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	expected := agg.Table{}
	for i := range 200 {
		et := wm.Add(time.Duration(i-150) * 3 * time.Minute)
		k := agg.Key{WindowStart: agg.Window(et, agg.Hour), EventType: []string{"click", "view"}[i%2], Source: "web"}
		expected.Get(k, false).Add(agg.Fingerprint(string(rune('a'+i%26))+time.Duration(i).String()), agg.UserHash("u"), float64(i%3))
	}
	generated := gen.Summary{Accepted: 210, Unique: 200, Rejected: map[event.Reason]int{event.ReasonBadType: 4}}
	raw := map[string]int64{"events": 210, "errors/bad_type": 4}

	write := func(t *testing.T, mutate func(g agg.Granularity, rows []views.Row) []views.Row) storage.Store {
		t.Helper()
		st, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
			tab, err := expected.Rollup(g)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := views.Rows(tab)
			if err != nil {
				t.Fatal(err)
			}
			for i := range rows {
				rows[i].Layer, rows[i].Watermark = views.LayerSpeed, wm
				if g == agg.Hour && rows[i].WindowStart.Before(wm) {
					rows[i].Layer = views.LayerBatch
				}
			}
			rows = mutate(g, rows)
			data, err := views.Encode(glue.MergedView, rows)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, glue.MergedView.Prefix+"granularity="+string(g)+"/dt=2026-11-22/part-00000.parquet", data); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	for _, tc := range []struct {
		name   string
		mutate func(g agg.Granularity, rows []views.Row) []views.Row
		raw    map[string]int64
		want   string
	}{
		{"correct", func(_ agg.Granularity, rows []views.Row) []views.Row { return rows }, raw, ""},
		{"an event counted twice", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				rows[3].Events++
			}
			return rows
		}, raw, "counts"},
		{"a row lost", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				return rows[1:]
			}
			return rows
		}, raw, "is missing"},
		{"a speed row before the watermark", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				rows[0].Layer = views.LayerSpeed
			}
			return rows
		}, raw, "from the speed layer, want batch"},
		{"a day row short", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Day {
				rows[0].Events--
			}
			return rows
		}, raw, "day row"},
		{"a row twice", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				return append(rows, rows[0])
			}
			return rows
		}, raw, "appears twice"},
		{"a quarantined record lost", func(_ agg.Granularity, rows []views.Row) []views.Row { return rows },
			map[string]int64{"events": 210, "errors/bad_type": 3}, "errors/bad_type holds 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := write(t, tc.mutate)
			rc, err := pipeline.Reconcile(ctx, st, expected, generated, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !rc.OK() || rc.Expected != 200 || rc.HourEvents != 200 || !rc.Watermark.Equal(wm) {
					t.Fatalf("a correct view did not reconcile: %+v", rc)
				}
				return
			}
			if rc.OK() || !strings.Contains(strings.Join(rc.Problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want one containing %q", rc.Problems, tc.want)
			}
		})
	}
	t.Run("the generator disagrees", func(t *testing.T) {
		st := write(t, func(_ agg.Granularity, rows []views.Row) []views.Row { return rows })
		other := generated
		other.Unique = 201
		rc, err := pipeline.Reconcile(ctx, st, expected, other, raw)
		if err != nil {
			t.Fatal(err)
		}
		if rc.OK() || !strings.Contains(strings.Join(rc.Problems, "\n"), "the generator wrote 201") {
			t.Fatalf("problems %q", rc.Problems)
		}
	})
}
