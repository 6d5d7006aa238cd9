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
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// UsersTolerance is the relative error allowed between a users view
// estimate and the exact distinct users: hll.Tolerance, 3 standard errors
// of a p = 12 HyperLogLog (4096 registers, about 1.6% each), 4.875%.
const UsersTolerance = hll.Tolerance

// UsersKey is one users view row of a day: EventType or Source is
// glue.All for the rows over every type or source.
type UsersKey struct {
	Day       time.Time
	EventType string
	Source    string
}

func (k UsersKey) String() string {
	return k.Day.Format("2006-01-02") + "/" + k.EventType + "/" + k.Source
}

// DistinctUsers holds the user_ids of the distinct accepted events per day
// at each rollup level of the users view.
type DistinctUsers map[UsersKey]map[string]struct{}

// Add counts e's user in the rows of its day: its type over all sources,
// its source over all types, and everything.
func (d DistinctUsers) Add(e event.Event) {
	day := agg.Window(e.EventTime, agg.Day)
	for _, k := range []UsersKey{{day, e.EventType, glue.All}, {day, glue.All, e.Source}, {day, glue.All, glue.All}} {
		if d[k] == nil {
			d[k] = map[string]struct{}{}
		}
		d[k][e.UserID] = struct{}{}
	}
}

// UsersCheck is what the users view's day rows gave against the exact
// distinct users.
type UsersCheck struct {
	// Rows is how many day rows were compared.
	Rows int
	// MaxError is the largest relative error of a row.
	MaxError float64
	// DAU lists, per day, the users view's distinct users over everything
	// and the exact number.
	DAU []DAU
}

// DAU is one day's distinct users: the users view's estimate and the exact
// count.
type DAU struct {
	Day             time.Time
	Estimate, Exact int64
}

// Error is the relative error of the estimate.
func (d DAU) Error() float64 {
	if d.Exact == 0 {
		return math.Inf(1)
	}
	return float64(d.Estimate-d.Exact) / float64(d.Exact)
}

// checkUsers reads the users view's day rows and compares every one with
// want: each expected row present once, within UsersTolerance, from the
// speed layer exactly on the days whose merged day rows are (speedDays),
// and no row without events.
func checkUsers(ctx context.Context, r *Reconciliation, viewStore storage.Store, want DistinctUsers, speedDays map[time.Time]bool) error {
	prefix := glue.UsersView.Prefix + "granularity=" + string(agg.Day) + "/"
	objs, err := viewStore.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("listing the users view: %w", err)
	}
	got := map[UsersKey]int64{}
	for _, o := range objs {
		if !strings.HasSuffix(o.Key, ".parquet") {
			continue
		}
		data, err := storage.ReadAll(ctx, viewStore, o.Key)
		if err != nil {
			return err
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			return fmt.Errorf("reading users view object %s: %w", o.Key, err)
		}
		for i := range rows {
			row := &rows[i]
			k := UsersKey{row.WindowStart.UTC(), row.EventType, row.Source}
			if _, dup := got[k]; dup {
				r.problem("users view day row %s appears twice", k)
			}
			got[k] = row.Users
			if wantLayer := map[bool]string{true: views.LayerSpeed, false: views.LayerBatch}[speedDays[k.Day]]; row.Layer != wantLayer {
				r.problem("users view day row %s is from the %s layer, want %s as the merged day rows", k, row.Layer, wantLayer)
			}
		}
	}
	keys := make([]UsersKey, 0, len(want)+len(got))
	for k := range want {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		return agg.Key{WindowStart: a.Day, EventType: a.EventType, Source: a.Source}.Less(agg.Key{WindowStart: b.Day, EventType: b.EventType, Source: b.Source})
	})
	c := &r.Users
	for _, k := range keys {
		exact := int64(len(want[k]))
		est, ok := got[k]
		switch {
		case exact == 0:
			r.problem("users view day row %s counts %d users; no accepted event has that key", k, est)
			continue
		case !ok:
			r.problem("users view day row %s is missing (%d distinct users expected)", k, exact)
			continue
		}
		c.Rows++
		rel := math.Abs(float64(est-exact)) / float64(exact)
		c.MaxError = max(c.MaxError, rel)
		if rel > UsersTolerance {
			r.problem("users view day row %s estimates %d distinct users, exact %d (error %.2f%% > %.3g%%)", k, est, exact, 100*rel, 100*UsersTolerance)
		}
		if k.EventType == glue.All && k.Source == glue.All {
			c.DAU = append(c.DAU, DAU{Day: k.Day, Estimate: est, Exact: exact})
		}
	}
	return nil
}
