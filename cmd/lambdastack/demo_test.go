package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/dashboard"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/queries"
)

// TestDemo runs the whole demo on a small volume, then checks the named
// queries' results over its output against the expectations the pipeline
// computed from the generated records, and the dashboard's rendering.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	now := time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)
	var stdout, stderr bytes.Buffer
	env := &cliEnv{stdout: &stdout, stderr: &stderr}
	run, err := runDemo(context.Background(), env, demoOptions{events: 6000, hours: 4, shards: 3, seed: 5, dir: dir, now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	rep := run.report
	if !rep.Reconciled.OK() {
		t.Fatalf("reconciliation: %v", rep.Reconciled.Problems)
	}
	if !strings.Contains(stdout.String(), "reconciliation OK") || !strings.Contains(stdout.String(), "dashboard.html") {
		t.Errorf("report:\n%s", stdout.String())
	}
	wm := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC) // now - 15m, to the hour
	if !rep.Reconciled.Watermark.Equal(wm) || rep.Reconciled.Events["batch"] == 0 || rep.Reconciled.Events["speed"] == 0 {
		t.Fatalf("watermark %s, events by layer %v", rep.Reconciled.Watermark, rep.Reconciled.Events)
	}
	for _, f := range []string{"report.txt", "dashboard.html", "queries/events_per_hour.txt", "raw/events", "raw/errors", "views/batch", "views/speed", "views/merged", "views/users"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("demo output: %v", err)
		}
	}
	exp := rep.Expected.Hours
	res := run.results

	t.Run("events_per_hour", func(t *testing.T) {
		type key struct {
			hour time.Time
			typ  string
		}
		want := map[key]int64{}
		for k, a := range exp {
			want[key{k.WindowStart, k.EventType}] += a.Events
		}
		got := map[key]int64{}
		r := res["events_per_hour"]
		for _, row := range r.Rows {
			h := row[0].(time.Time)
			got[key{h, row[1].(string)}] += row[3].(int64)
			if layer := row[2].(string); (layer == "batch") != h.Before(wm) {
				t.Errorf("hour %s is in the %s layer (watermark %s)", h, layer, wm)
			}
		}
		compareCounts(t, got, want)
	})
	t.Run("top_event_types", func(t *testing.T) {
		counts := map[string]int64{}
		for k, a := range exp {
			if !k.WindowStart.Before(now.Add(-24*time.Hour)) && k.WindowStart.Before(now) {
				counts[k.EventType] += a.Events
			}
		}
		var types []string
		for k := range counts {
			types = append(types, k)
		}
		sort.Slice(types, func(i, j int) bool {
			if counts[types[i]] != counts[types[j]] {
				return counts[types[i]] > counts[types[j]]
			}
			return types[i] < types[j]
		})
		r := res["top_event_types"]
		if len(r.Rows) != min(10, len(types)) {
			t.Fatalf("%d rows, want %d", len(r.Rows), min(10, len(types)))
		}
		for i, row := range r.Rows {
			if row[0] != types[i] || row[1] != counts[types[i]] {
				t.Errorf("rank %d: %v %v, want %s %d", i+1, row[0], row[1], types[i], counts[types[i]])
			}
		}
	})
	days, err := exp.Rollup(agg.Day)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("value_per_day", func(t *testing.T) {
		type key struct {
			day time.Time
			typ string
		}
		values, events := map[key]float64{}, map[key]int64{}
		for k, a := range days {
			values[key{k.WindowStart, k.EventType}] += a.ValueSum
			events[key{k.WindowStart, k.EventType}] += a.Events
		}
		r := res["value_per_day"]
		if len(r.Rows) != len(values) {
			t.Fatalf("%d rows, want %d", len(r.Rows), len(values))
		}
		for _, row := range r.Rows {
			k := key{row[0].(time.Time), row[1].(string)}
			if v := row[2].(float64); math.Abs(v-values[k]) > 1e-6*math.Max(1, values[k]) || row[3] != events[k] {
				t.Errorf("%v: %v %v, want %v %d", k, row[2], row[3], values[k], events[k])
			}
		}
	})
	// The users queries read the users view: within the reconciliation's
	// tolerance (pipeline.UsersTolerance) of the exact
	// distinct users of the generated events (rep.Expected.Users, computed
	// independently of the pipeline).
	checkUsers := func(t *testing.T, r *queries.Result, group string, key func(day time.Time, g string) pipeline.UsersKey) {
		t.Helper()
		if r.Col(group) != 1 || r.Col("users") != 2 {
			t.Fatalf("columns %v", r.Columns)
		}
		want := 0
		for k := range rep.Expected.Users {
			if kk := key(k.Day, map[bool]string{true: k.EventType, false: k.Source}[group == "event_type"]); kk == k {
				want++
			}
		}
		if len(r.Rows) != want || want == 0 {
			t.Fatalf("%d rows, want %d", len(r.Rows), want)
		}
		for _, row := range r.Rows {
			k := key(row[0].(time.Time), row[1].(string))
			exact := int64(len(rep.Expected.Users[k]))
			if got := row[2].(int64); exact == 0 || math.Abs(float64(got-exact)) > pipeline.UsersTolerance*float64(exact) {
				t.Errorf("%v: %d users, exact %d", k, got, exact)
			}
		}
	}
	t.Run("users_per_day", func(t *testing.T) {
		checkUsers(t, res["users_per_day"], "event_type", func(day time.Time, g string) pipeline.UsersKey {
			return pipeline.UsersKey{Day: day, EventType: g, Source: glue.All}
		})
	})
	t.Run("users_per_day_by_source", func(t *testing.T) {
		checkUsers(t, res["users_per_day_by_source"], "source", func(day time.Time, g string) pipeline.UsersKey {
			return pipeline.UsersKey{Day: day, EventType: glue.All, Source: g}
		})
	})
	t.Run("rejected_by_reason", func(t *testing.T) {
		got := map[string]int64{}
		for _, row := range res["rejected_by_reason"].Rows {
			got[row[1].(string)] += row[2].(int64)
		}
		for _, r := range event.Reasons() {
			if got[string(r)] != int64(rep.Generated.Rejected[r]) {
				t.Errorf("%s: %d rejected, want %d", r, got[string(r)], rep.Generated.Rejected[r])
			}
		}
	})
	t.Run("freshness", func(t *testing.T) {
		row := res["freshness"].Rows[0]
		if !row[0].(time.Time).Equal(wm) || row[2] != int64(now.Sub(wm)/time.Second) {
			t.Errorf("freshness %v, want watermark %s lag %d", row, wm, int64(now.Sub(wm)/time.Second))
		}
	})
	t.Run("raw_events_hour", func(t *testing.T) {
		drill := now.Add(-time.Hour).Truncate(time.Hour)
		want := rep.Expected.RawByHour[drill.Format("2006-01-02/15")]
		r := res["raw_events_hour"]
		if want == 0 || int64(len(r.Rows)) != min(want, 1000) {
			t.Fatalf("%d rows, want %d", len(r.Rows), want)
		}
		for _, row := range r.Rows {
			if et := row[2].(time.Time); et.Truncate(time.Hour) != drill {
				t.Fatalf("event_time %s outside the hour %s", et, drill)
			}
		}
	})
	// exactUsers is the distinct users of the generated events over the
	// days [from, to] under key (glue.All for every type or source).
	exactUsers := func(from, to time.Time, typ, src string) int64 {
		us := map[string]bool{}
		for k, users := range rep.Expected.Users {
			if !k.Day.Before(from) && !k.Day.After(to) && k.EventType == typ && k.Source == src {
				for u := range users {
					us[u] = true
				}
			}
		}
		return int64(len(us))
	}
	today := now.Truncate(24 * time.Hour)
	t.Run("active_users", func(t *testing.T) {
		r := res["active_users"]
		if len(r.Rows) != 1 || !r.Rows[0][0].(time.Time).Equal(today) {
			t.Fatalf("rows %v, want one for %s", r.Rows, today)
		}
		for i, days := range []int{1, 7, 30} {
			exact := exactUsers(today.AddDate(0, 0, 1-days), today, glue.All, glue.All)
			if got := r.Rows[0][i+1].(int64); exact == 0 || math.Abs(float64(got-exact)) > pipeline.UsersTolerance*float64(exact) {
				t.Errorf("%s: %d, exact %d", r.Columns[i+1], got, exact)
			}
		}
	})
	t.Run("active_users_by", func(t *testing.T) {
		r := res["active_users_by"]
		sources := map[string]bool{}
		for k := range rep.Expected.Users {
			if k.EventType == glue.All && k.Source != glue.All {
				sources[k.Source] = true
			}
		}
		if len(r.Rows) != len(sources) {
			t.Fatalf("%d rows, want one per source (%d)", len(r.Rows), len(sources))
		}
		for _, row := range r.Rows {
			exact := exactUsers(today.AddDate(0, 0, -6), today, glue.All, row[0].(string))
			if got := row[1].(int64); exact == 0 || math.Abs(float64(got-exact)) > pipeline.UsersTolerance*float64(exact) {
				t.Errorf("%s: %d users, exact %d", row[0], got, exact)
			}
		}
	})
	t.Run("active_users_per_day", func(t *testing.T) {
		// The demo's hours are all today: one row, the same as active_users.
		r := res["active_users_per_day"]
		if len(r.Rows) != 1 || fmt.Sprint(r.Rows[0]) != fmt.Sprint(res["active_users"].Rows[0]) {
			t.Errorf("rows %v, want the active_users row %v", r.Rows, res["active_users"].Rows)
		}
	})
	t.Run("every query checked", func(t *testing.T) {
		all, _ := queries.All()
		if len(all) != 11 || len(res) != len(all) {
			t.Errorf("%d queries, %d results: add a check for the new query", len(all), len(res))
		}
	})

	t.Run("query --local", func(t *testing.T) {
		code, out, errOut := runCLI(t, "", "query", "rejected_by_reason", "--local", dir, "--format", "csv")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var total int64
		for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
			f := strings.Split(line, ",")
			var n int64
			fmt.Sscan(f[2], &n)
			total += n
		}
		if total != int64(rep.Generated.RejectedTotal) {
			t.Errorf("query rejected_by_reason adds up to %d, want %d:\n%s", total, rep.Generated.RejectedTotal, out)
		}
		drill := now.Add(-2 * time.Hour)
		code, out, errOut = runCLI(t, "", "query", "raw_events_hour", "--param", "dt="+drill.Format("2006-01-02"), "--param", "hour="+drill.Format("15"), "--local", dir)
		want := rep.Expected.RawByHour[drill.Format("2006-01-02/15")]
		if code != 0 || !strings.Contains(out, fmt.Sprintf("(%d rows)", min(want, 1000))) {
			t.Errorf("exit %d, want (%d rows):\n%s%s", code, want, out[max(0, len(out)-200):], errOut)
		}
		code, _, errOut = runCLI(t, "", "query", "raw_events_hour", "--param", "dt=2026-11-22", "--local", dir)
		if code != 2 || !strings.Contains(errOut, "needs --param hour") {
			t.Errorf("missing parameter: exit %d: %s", code, errOut)
		}
	})

	t.Run("dashboard screenshot", func(t *testing.T) {
		bin := dashboard.FindChromium()
		if bin == "" {
			t.Skip("no Chromium on PATH (chromium, chromium-browser, google-chrome): `make chromium` installs Debian's package; only the screenshot is skipped")
		}
		shot := filepath.Join(t.TempDir(), "dashboard.png")
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if out, err := dashboard.Screenshot(ctx, bin, run.page, shot, t.TempDir()); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if p := os.Getenv("LAMBDASTACK_KEEP_SCREENSHOT"); p != "" {
			data, _ := os.ReadFile(shot)
			os.WriteFile(p, data, 0o644)
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		counts := dashboard.CountColours(img, dashboard.ChartColours, 6)
		for name := range dashboard.ChartColours {
			if counts[name] < 200 {
				t.Errorf("the screenshot shows %d pixels of the %s colour", counts[name], name)
			}
		}
	})

	t.Run("rerun clears the directory", func(t *testing.T) {
		marker := filepath.Join(dir, "views", "stale.parquet")
		if err := os.WriteFile(marker, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCLI(t, "", "demo", "--events", "500", "--hours", "2", "--dir", dir)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the rerun kept a file of the earlier run")
		}
	})
	t.Run("refuses a foreign directory", func(t *testing.T) {
		other := t.TempDir()
		os.WriteFile(filepath.Join(other, "precious.txt"), []byte("x"), 0o644)
		code, _, errOut := runCLI(t, "", "demo", "--events", "100", "--dir", other)
		if code == 0 || !strings.Contains(errOut, "not written by lambdastack demo") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if _, err := os.Stat(filepath.Join(other, "precious.txt")); err != nil {
			t.Fatal("the demo removed a file it did not write")
		}
	})
}

func compareCounts[K comparable](t *testing.T, got, want map[K]int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d keys, want %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%v: %d, want %d", k, got[k], w)
		}
	}
}

// TestDemoReconcilesAtEverySize runs the demo from one event to a thousand
// over several seeds: each run must reconcile (small runs leave event types
// and sources with only batch rows on a day the speed layer also covers,
// which is where the users view's layer rule shows).
func TestDemoReconcilesAtEverySize(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)
	for _, n := range []int{1, 10, 100, 300, 1000} {
		for _, seed := range []uint64{1, 2, 3, 4, 5} {
			t.Run(fmt.Sprintf("events=%d/seed=%d", n, seed), func(t *testing.T) {
				var stdout, stderr bytes.Buffer
				env := &cliEnv{stdout: &stdout, stderr: &stderr}
				run, err := runDemo(context.Background(), env, demoOptions{events: n, hours: 4, shards: 2, seed: seed,
					dir: filepath.Join(t.TempDir(), "out"), now: func() time.Time { return now }})
				if err != nil {
					t.Fatalf("%v\n%s", err, stderr.String())
				}
				if !run.report.Reconciled.OK() {
					t.Fatalf("reconciliation: %v", run.report.Reconciled.Problems)
				}
			})
		}
	}
}
