package pipeline_test

import (
	"context"
	"fmt"
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
	expected, users := agg.Table{}, pipeline.DistinctUsers{}
	for i := range 200 {
		e := event.Event{EventID: string(rune('a'+i%26)) + time.Duration(i).String(), EventTime: wm.Add(time.Duration(i-150) * 3 * time.Minute),
			EventType: []string{"click", "view"}[i%2], Source: []string{"web", "ios", "web"}[i%3], UserID: fmt.Sprintf("u%d", i%37), Value: float64(i % 3)}
		k := agg.Key{WindowStart: agg.Window(e.EventTime, agg.Hour), EventType: e.EventType, Source: e.Source}
		expected.Get(k, false).Add(agg.Fingerprint(e.EventID), agg.UserHash(e.UserID), e.Value)
		users.Add(e)
	}
	exp := pipeline.Expected{Hours: expected, Users: users}
	generated := gen.Summary{Accepted: 210, Unique: 200, Rejected: map[event.Reason]int{event.ReasonBadType: 4}}
	raw := map[string]int64{"events": 210, "errors/bad_type": 4}

	write := func(t *testing.T, mutate func(g agg.Granularity, rows []views.Row) []views.Row, mutateUsers func(rows []views.Row) []views.Row) storage.Store {
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
			if g != agg.Day {
				continue
			}
			urows, err := views.UserRollup(rows)
			if err != nil {
				t.Fatal(err)
			}
			if mutateUsers != nil {
				urows = mutateUsers(urows)
			}
			if data, err = views.Encode(glue.UsersView, urows); err != nil {
				t.Fatal(err)
			}
			if err := st.Put(ctx, glue.UsersView.Prefix+"granularity=day/dt=2026-11-22/part-00000.parquet", data); err != nil {
				t.Fatal(err)
			}
		}
		return st
	}
	same := func(_ agg.Granularity, rows []views.Row) []views.Row { return rows }
	for _, tc := range []struct {
		name   string
		mutate func(g agg.Granularity, rows []views.Row) []views.Row
		raw    map[string]int64
		want   string
		users  func(rows []views.Row) []views.Row
	}{
		{"correct", func(_ agg.Granularity, rows []views.Row) []views.Row { return rows }, raw, "", nil},
		{"an event counted twice", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				rows[3].Events++
			}
			return rows
		}, raw, "counts", nil},
		{"a row lost", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				return rows[1:]
			}
			return rows
		}, raw, "is missing", nil},
		{"a speed row before the watermark", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				rows[0].Layer = views.LayerSpeed
			}
			return rows
		}, raw, "from the speed layer, want batch", nil},
		{"a day row short", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Day {
				rows[0].Events--
			}
			return rows
		}, raw, "day row", nil},
		{"a row twice", func(g agg.Granularity, rows []views.Row) []views.Row {
			if g == agg.Hour {
				return append(rows, rows[0])
			}
			return rows
		}, raw, "appears twice", nil},
		{"a quarantined record lost", func(_ agg.Granularity, rows []views.Row) []views.Row { return rows },
			map[string]int64{"events": 210, "errors/bad_type": 3}, "errors/bad_type holds 3", nil},
		{"DAU off by 8% (beyond the tolerance)", same, raw, "users view day row 2026-11-22/*/* estimates", func(rows []views.Row) []views.Row {
			for i := range rows {
				if rows[i].EventType == glue.All && rows[i].Source == glue.All {
					rows[i].Users = rows[i].Users * 108 / 100
				}
			}
			return rows
		}},
		{"users of a type summed over sources", same, raw, "users view day row 2026-11-22/click/* estimates", func(rows []views.Row) []views.Row {
			// What adding the merged view's estimates gives: users seen
			// under two sources counted twice.
			for i := range rows {
				if rows[i].EventType == "click" {
					rows[i].Users = int64(len(users[pipeline.UsersKey{Day: rows[i].WindowStart, EventType: "click", Source: "web"}]) +
						len(users[pipeline.UsersKey{Day: rows[i].WindowStart, EventType: "click", Source: "ios"}]))
				}
			}
			return rows
		}},
		{"a users row lost", same, raw, "users view day row 2026-11-22/*/ios is missing", func(rows []views.Row) []views.Row {
			var out []views.Row
			for _, r := range rows {
				if r.Source != "ios" {
					out = append(out, r)
				}
			}
			return out
		}},
		{"a users row from the wrong layer", same, raw, "is from the batch layer, want speed", func(rows []views.Row) []views.Row {
			rows[0].Layer = views.LayerBatch
			return rows
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := write(t, tc.mutate, tc.users)
			rc, err := pipeline.Reconcile(ctx, st, exp, generated, tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == "" {
				if !rc.OK() || rc.Expected != 200 || rc.HourEvents != 200 || !rc.Watermark.Equal(wm) {
					t.Fatalf("a correct view did not reconcile: %+v", rc)
				}
				// click, view, web, ios and everything, of one day.
				if rc.Users.Rows != 5 || len(rc.Users.DAU) != 1 || rc.Users.DAU[0].Exact != 37 {
					t.Fatalf("users check %+v", rc.Users)
				}
				return
			}
			if rc.OK() || !strings.Contains(strings.Join(rc.Problems, "\n"), tc.want) {
				t.Fatalf("problems %q, want one containing %q", rc.Problems, tc.want)
			}
		})
	}
	t.Run("the generator disagrees", func(t *testing.T) {
		st := write(t, same, nil)
		other := generated
		other.Unique = 201
		rc, err := pipeline.Reconcile(ctx, st, exp, other, raw)
		if err != nil {
			t.Fatal(err)
		}
		if rc.OK() || !strings.Contains(strings.Join(rc.Problems, "\n"), "the generator wrote 201") {
			t.Fatalf("problems %q", rc.Problems)
		}
	})
}
