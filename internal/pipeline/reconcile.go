package pipeline

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// Reconciliation compares the merged view, read back from storage, and the
// raw store with what was generated.
type Reconciliation struct {
	Watermark time.Time
	// Expected is the number of distinct accepted events generated.
	Expected int64
	// HourEvents and DayEvents are the events the merged view counts at
	// each granularity.
	HourEvents, DayEvents int64
	// Rows counts merged rows by granularity and layer; Events the hour
	// rows' events by layer.
	Rows   map[string]map[string]int
	Events map[string]int64
	// Users compares the users view's day rows with the exact distinct
	// users of the accepted events.
	Users UsersCheck
	// Problems lists every disagreement (the first 20); none means OK.
	Problems []string
}

// OK reports whether everything reconciles.
func (r *Reconciliation) OK() bool { return len(r.Problems) == 0 }

func (r *Reconciliation) problem(format string, a ...any) {
	if len(r.Problems) < 20 {
		r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
	}
}

// Reconcile reads every merged-view object and checks, key by key, that the
// hour rows count each expected (distinct, accepted) event exactly once
// with its value, that the day rows add up to the same, that rows before
// the watermark come from the batch layer and the rest from the speed
// layer (a users view row from the speed layer when a speed day row went
// into it), that the users view's day rows give the exact distinct users of
// each day (overall, per event type, per source) within UsersTolerance,
// and that the raw store holds every accepted record and every rejected
// one under its reason.
func Reconcile(ctx context.Context, viewStore storage.Store, exp Expected, generated gen.Summary, raw map[string]int64) (Reconciliation, error) {
	expected := exp.Hours
	r := Reconciliation{Rows: map[string]map[string]int{}, Events: map[string]int64{}}
	for _, a := range expected {
		r.Expected += a.Events
	}
	objs, err := viewStore.List(ctx, glue.MergedView.Prefix)
	if err != nil {
		return r, fmt.Errorf("listing the merged view: %w", err)
	}
	got := map[string]agg.Table{string(agg.Hour): {}, string(agg.Day): {}}
	layers := map[agg.Key]string{}
	// speedUsers marks the users view day rows that a speed merged day row
	// goes into: the rule of views.UserRollup (a rollup row is speed when
	// any row that went into it is).
	speedUsers := map[UsersKey]bool{}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".parquet") || strings.HasPrefix(strings.TrimPrefix(o.Key, glue.MergedView.Prefix), "_staging/") {
			continue // not a view object, or one staged by a commit (storage.Commit)
		}
		g := ""
		for _, part := range strings.Split(o.Key, "/") {
			if v, ok := strings.CutPrefix(part, "granularity="); ok {
				g = v
			}
		}
		if got[g] == nil {
			r.problem("merged object %s has no known granularity", o.Key)
			continue
		}
		data, err := storage.ReadAll(ctx, viewStore, o.Key)
		if err != nil {
			return r, err
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			return r, fmt.Errorf("reading merged object %s: %w", o.Key, err)
		}
		for i := range rows {
			row := &rows[i]
			if r.Rows[g] == nil {
				r.Rows[g] = map[string]int{}
			}
			r.Rows[g][row.Layer]++
			if r.Watermark.IsZero() {
				r.Watermark = row.Watermark
			} else if !row.Watermark.Equal(r.Watermark) {
				r.problem("rows carry two watermarks: %s and %s", r.Watermark, row.Watermark)
			}
			k := row.Key()
			if _, dup := got[g][k]; dup {
				r.problem("%s row %s appears twice", g, keyString(k))
			}
			got[g][k] = &agg.Aggregate{Events: row.Events, ValueSum: row.ValueSum}
			if g == string(agg.Hour) {
				r.HourEvents += row.Events
				r.Events[row.Layer] += row.Events
				layers[k] = row.Layer
			} else {
				r.DayEvents += row.Events
				if row.Layer == views.LayerSpeed {
					for _, uk := range views.UserRollupKeys(k) {
						speedUsers[UsersKey{uk.WindowStart, uk.EventType, uk.Source}] = true
					}
				}
			}
		}
	}
	// Layers: batch before the watermark, speed from it on.
	for k, l := range layers {
		want := views.LayerSpeed
		if k.WindowStart.Before(r.Watermark) {
			want = views.LayerBatch
		}
		if l != want {
			r.problem("hour row %s is from the %s layer, want %s (watermark %s)", keyString(k), l, want, r.Watermark.Format(time.RFC3339))
		}
	}
	days, err := expected.Rollup(agg.Day)
	if err != nil {
		return r, err
	}
	compare(&r, "hour", expected, got[string(agg.Hour)])
	compare(&r, "day", days, got[string(agg.Day)])
	if r.HourEvents != r.Expected || r.DayEvents != r.Expected {
		r.problem("the merged view counts %d events in hour rows and %d in day rows; %d distinct accepted events were generated",
			r.HourEvents, r.DayEvents, r.Expected)
	}
	if err := checkUsers(ctx, &r, viewStore, exp.Users, speedUsers); err != nil {
		return r, err
	}
	if generated.Unique > 0 && r.Expected != int64(generated.Unique) {
		r.problem("the event model accepts %d distinct events of those generated; the generator wrote %d",
			r.Expected, generated.Unique)
	}
	// The raw store keeps every accepted record and every rejected one
	// (more copies only where the stream may redeliver).
	if raw != nil {
		off := func(n, want int64) bool { return n < want || (n > want && !exp.Redelivery) }
		if off(raw["events"], int64(generated.Accepted)) {
			r.problem("raw events hold %d records; %d were accepted (duplicates included)", raw["events"], generated.Accepted)
		}
		for _, reason := range event.Reasons() {
			if n, want := raw["errors/"+string(reason)], int64(generated.Rejected[reason]); off(n, want) {
				r.problem("raw errors/%s holds %d records; %d were generated", reason, n, want)
			}
		}
		if n := raw["processing-failed"]; n != 0 {
			r.problem("%d records failed processing", n)
		}
	}
	return r, nil
}

func keyString(k agg.Key) string {
	return k.WindowStart.Format("2006-01-02T15") + "/" + k.EventType + "/" + k.Source
}

func compare(r *Reconciliation, g string, want, got agg.Table) {
	keys := map[agg.Key]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]agg.Key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Less(sorted[j]) })
	for _, k := range sorted {
		w, g2 := want[k], got[k]
		switch {
		case w == nil:
			r.problem("%s row %s counts %d events that were never generated", g, keyString(k), g2.Events)
		case g2 == nil:
			r.problem("%s row %s is missing (%d events expected)", g, keyString(k), w.Events)
		case w.Events != g2.Events:
			r.problem("%s row %s counts %d events, want %d", g, keyString(k), g2.Events, w.Events)
		case math.Abs(w.ValueSum-g2.ValueSum) > 1e-6*math.Max(1, math.Abs(w.ValueSum)):
			r.problem("%s row %s sums value %v, want %v", g, keyString(k), g2.ValueSum, w.ValueSum)
		}
	}
}
