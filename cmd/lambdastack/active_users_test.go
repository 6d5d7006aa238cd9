package main

import (
	"context"
	"io"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/queries"
	"github.com/lambdastack/lambdastack/queries/local"
)

// TestDemoActiveUsersTenDays: over a 10-day demo, active_users (DAU, WAU,
// MAU merged in SQL from the merged view's day sketches) agrees with the
// exact distinct users counted from the raw store, within hll.Tolerance,
// for the last day and the one before it. (`lambdastack demo --events
// 300000 --hours 240` is the same at five times the events.)
func TestDemoActiveUsersTenDays(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "out")
	now := time.Date(2026, 11, 30, 18, 40, 0, 0, time.UTC)
	run, err := runDemo(ctx, &cliEnv{stdout: io.Discard, stderr: io.Discard},
		demoOptions{events: 60000, hours: 240, shards: 2, seed: 9, dir: dir, now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if !run.report.Reconciled.OK() {
		t.Fatalf("reconciliation: %v", run.report.Reconciled.Problems)
	}
	r, err := local.Open(ctx, local.DirsUnder(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, day := range []time.Time{now.Truncate(24 * time.Hour), now.Truncate(24*time.Hour).AddDate(0, 0, -1)} {
		got := activeUsers(t, r, day)
		for i, days := range []int{1, 7, 30} {
			from := day.AddDate(0, 0, 1-days)
			res, err := r.Exec(ctx, "exact", `SELECT COUNT(DISTINCT user_id) FROM raw_events WHERE dt >= ? AND dt <= ?`,
				from.Format("2006-01-02"), day.Format("2006-01-02"))
			if err != nil {
				t.Fatal(err)
			}
			exact := res.Rows[0][0].(int64)
			rel := math.Abs(float64(got[i]-exact)) / float64(exact)
			if exact < 1000 || rel > hll.Tolerance {
				t.Errorf("%s over %d days: %d, exact %d from raw (error %.2f%% > %.3g%%)", day.Format("2006-01-02"), days, got[i], exact, 100*rel, 100*hll.Tolerance)
			}
			t.Logf("%s over %2d days: %d, exact %d (error %+.2f%%)", day.Format("2006-01-02"), days, got[i], exact, 100*float64(got[i]-exact)/float64(exact))
		}
	}
}

func activeUsers(t *testing.T, r *local.Runner, day time.Time) [3]int64 {
	t.Helper()
	q, err := queries.Get("active_users")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := q.Bind(map[string]string{"day": day.Format("2006-01-02")}, day)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background(), q, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 {
		t.Fatalf("active_users: %d rows", len(res.Rows))
	}
	return [3]int64{res.Rows[0][1].(int64), res.Rows[0][2].(int64), res.Rows[0][3].(int64)}
}
