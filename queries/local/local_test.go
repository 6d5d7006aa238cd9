package local_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/queries"
	"github.com/lambdastack/lambdastack/queries/local"
)

// fixture is a small world written independently of the pipeline: raw
// events (with redeliveries), quarantined records and a merged view built
// straight from the events, so the SQL can be checked against Go.
type fixture struct {
	now, watermark time.Time
	raw            []event.Event // every accepted record, redeliveries included
	errs           []errRecord
	// mergedDays are the merged view's day rows that write wrote.
	mergedDays []views.Row
}

type errRecord struct {
	reason   event.Reason
	received time.Time
}

func newFixture(seed uint64) *fixture {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	f := &fixture{
		now:       time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC),
		watermark: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC),
	}
	types := []string{"page_view", "click", "search", "purchase", "signup", "share"}
	sources := []string{"web", "ios", "android"}
	start := f.now.Add(-30 * time.Hour).Truncate(time.Hour) // spans two days
	span := f.now.Sub(start)
	for i := range 3000 {
		e := event.Event{
			EventID:   fmt.Sprintf("ev-%05d", i),
			EventType: types[rng.IntN(len(types))],
			EventTime: start.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Millisecond),
			UserID:    fmt.Sprintf("user-%03d", rng.IntN(300)),
			Source:    sources[rng.IntN(len(sources))],
		}
		if e.EventType == "purchase" {
			e.Value, e.HasValue = float64(rng.IntN(10000))/100, true
		}
		if rng.IntN(4) == 0 {
			e.SessionID = fmt.Sprintf("s-%d", rng.IntN(50))
		}
		e.ReceivedTime = e.EventTime.Add(time.Duration(rng.IntN(5000)) * time.Millisecond)
		f.raw = append(f.raw, e)
		if rng.IntN(20) == 0 { // a redelivery, received later
			d := e
			d.ReceivedTime = e.ReceivedTime.Add(time.Second)
			f.raw = append(f.raw, d)
		}
	}
	reasons := event.Reasons()
	for i := range 70 {
		f.errs = append(f.errs, errRecord{reasons[i%len(reasons)], start.Add(time.Duration(rng.Int64N(int64(span))))})
	}
	return f
}

// distinct returns the accepted events once each.
func (f *fixture) distinct() []event.Event {
	seen := map[string]bool{}
	var out []event.Event
	for _, e := range f.raw {
		if !seen[e.EventID] {
			seen[e.EventID] = true
			out = append(out, e)
		}
	}
	return out
}

func (f *fixture) layer(e event.Event) string {
	if e.EventTime.Before(f.watermark) {
		return views.LayerBatch
	}
	return views.LayerSpeed
}

func put(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, lines [][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	for _, l := range lines {
		w.Write(l)
		w.Write([]byte{'\n'})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// write lays the fixture out as the buckets are: raw/events/dt=/hour=/
// (gzip NDJSON), raw/errors/<reason>/dt=/, views/merged/granularity=/dt=/.
func (f *fixture) write(t *testing.T, dir string) {
	t.Helper()
	byHour := map[string][][]byte{}
	for i := range f.raw {
		e := f.raw[i]
		k := "dt=" + e.Dt() + "/hour=" + e.Hour()
		byHour[k] = append(byHour[k], e.AppendJSON(nil))
	}
	for k, lines := range byHour {
		// Two objects per hour, as Firehose buffers would.
		half := len(lines) / 2
		put(t, filepath.Join(dir, "raw/events", k, "part-1.gz"), gz(t, lines[:half]))
		put(t, filepath.Join(dir, "raw/events", k, "part-2.gz"), gz(t, lines[half:]))
	}
	byReason := map[string][][]byte{}
	for _, r := range f.errs {
		k := string(r.reason) + "/dt=" + r.received.Format("2006-01-02") + "/hour=" + r.received.Format("15")
		line := fmt.Sprintf(`{"reason":%q,"field":"","detail":"test","received_time":%q,"record":"x"}`, r.reason, r.received.Format(time.RFC3339Nano))
		byReason[k] = append(byReason[k], []byte(line))
	}
	for k, lines := range byReason {
		put(t, filepath.Join(dir, "raw/errors", k, "errors-1.gz"), gz(t, lines))
	}
	// The merged view: per granularity and layer, aggregates of the
	// distinct events.
	for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
		byDt := map[string][]views.Row{}
		for _, layer := range []string{views.LayerBatch, views.LayerSpeed} {
			tab := agg.Table{}
			for _, e := range f.distinct() {
				if f.layer(e) != layer {
					continue
				}
				k := agg.Key{WindowStart: agg.Window(e.EventTime, g), EventType: e.EventType, Source: e.Source}
				tab.Get(k, false).Add(agg.Fingerprint(e.EventID), agg.UserHash(e.UserID), e.Value)
			}
			rows, err := views.Rows(tab)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				r.Layer, r.Watermark = layer, f.watermark
				dt := r.WindowStart.Format("2006-01-02")
				byDt[dt] = append(byDt[dt], r)
				if g == agg.Day {
					f.mergedDays = append(f.mergedDays, r)
				}
			}
		}
		for dt, rows := range byDt {
			data, err := views.Encode(glue.MergedView, rows)
			if err != nil {
				t.Fatal(err)
			}
			put(t, filepath.Join(dir, "views/merged", "granularity="+string(g), "dt="+dt, "part-0.parquet"), data)
		}
	}
	// The users view, built straight from the events: per window, each
	// type over all sources, each source over all types, and everything.
	for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
		tab, speed := agg.Table{}, map[time.Time]bool{}
		for _, e := range f.distinct() {
			w := agg.Window(e.EventTime, g)
			for _, k := range []agg.Key{{WindowStart: w, EventType: e.EventType, Source: glue.All},
				{WindowStart: w, EventType: glue.All, Source: e.Source}, {WindowStart: w, EventType: glue.All, Source: glue.All}} {
				tab.Get(k, false).Add(0, agg.UserHash(e.UserID), 0)
			}
			if f.layer(e) == views.LayerSpeed {
				speed[w] = true
			}
		}
		rows, err := views.Rows(tab)
		if err != nil {
			t.Fatal(err)
		}
		byDt := map[string][]views.Row{}
		for _, r := range rows {
			r.Layer, r.Watermark = views.LayerBatch, f.watermark
			if speed[r.WindowStart] {
				r.Layer = views.LayerSpeed
			}
			dt := r.WindowStart.Format("2006-01-02")
			byDt[dt] = append(byDt[dt], r)
		}
		for dt, rows := range byDt {
			data, err := views.Encode(glue.UsersView, rows)
			if err != nil {
				t.Fatal(err)
			}
			put(t, filepath.Join(dir, "views/users", "granularity="+string(g), "dt="+dt, "part-0.parquet"), data)
		}
	}
	// A manifest and a temporary file beside the objects must not be read.
	put(t, filepath.Join(dir, "views/merged/_manifest.json"), []byte("{}"))
	put(t, filepath.Join(dir, "views/merged/granularity=hour/.tmp-part-9.parquet"), []byte("partial"))
}

func TestPathPatternsSkipMarkers(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(1)
	f.write(t, dir)
	r, err := local.Open(context.Background(), local.DirsUnder(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Files[glue.MergedView.Name] == 0 || r.Files[glue.UsersView.Name] == 0 || r.Files[glue.RawEvents.Name] == 0 || r.Files[glue.Errors.Name] == 0 {
		t.Fatalf("files per table %v", r.Files)
	}
	if r.Files[glue.BatchView.Name] != 0 || r.Files[glue.SpeedView.Name] != 0 {
		t.Fatalf("empty tables read files: %v", r.Files)
	}
	// Empty tables still have their columns.
	res, err := r.Exec(context.Background(), "count", "SELECT COUNT(*) AS n, COUNT(event_fingerprints) AS f FROM speed_view")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows[0][0] != int64(0) {
		t.Fatalf("empty speed view has %v rows", res.Rows[0][0])
	}
}

// The checks of every named query: each computes the expected result from
// the fixture's events in Go and compares it with the DuckDB result.
var checks = map[string]struct {
	params map[string]string
	check  func(t *testing.T, f *fixture, res *queries.Result)
}{
	// The fixture spans two days: checks with since = the second day prove
	// the dt bound filters; the others check that the default covers them.
	"events_per_hour": {params: map[string]string{"since": "2026-11-22"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		type key struct {
			hour       time.Time
			typ, layer string
		}
		events, values := map[key]int64{}, map[key]float64{}
		for _, e := range f.distinct() {
			if e.Dt() < "2026-11-22" {
				continue
			}
			k := key{e.EventTime.Truncate(time.Hour), e.EventType, f.layer(e)}
			events[k]++
			values[k] += e.Value
		}
		wantCols(t, res, "window_start", "event_type", "layer", "events", "value_sum")
		if len(res.Rows) != len(events) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(events))
		}
		var prev key
		for i, row := range res.Rows {
			k := key{row[0].(time.Time), row[1].(string), row[2].(string)}
			if row[3] != events[k] || !near(row[4].(float64), values[k]) {
				t.Errorf("%v: events %v value %v, want %d %v", k, row[3], row[4], events[k], values[k])
			}
			if i > 0 && k.hour.Before(prev.hour) {
				t.Errorf("row %d not in hour order", i)
			}
			prev = k
		}
	}},
	"users_per_day": {params: map[string]string{"since": "2026-11-22"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		wantCols(t, res, "day", "event_type", "users", "layer")
		checkUsers(t, f, res, "2026-11-22", func(e event.Event) (string, string) { return e.EventType, glue.All })
	}},
	"users_per_day_by_source": {check: func(t *testing.T, f *fixture, res *queries.Result) {
		wantCols(t, res, "day", "source", "users", "layer")
		checkUsers(t, f, res, "", func(e event.Event) (string, string) { return e.Source, glue.All })
	}},
	"top_event_types": {params: map[string]string{"now": "2026-11-22T10:20:00Z"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		counts := map[string]int64{}
		for _, e := range f.distinct() {
			h := e.EventTime.Truncate(time.Hour)
			if !h.Before(f.now.Add(-24*time.Hour)) && h.Before(f.now) {
				counts[e.EventType]++
			}
		}
		type tc struct {
			typ string
			n   int64
		}
		var want []tc
		for k, n := range counts {
			want = append(want, tc{k, n})
		}
		sort.Slice(want, func(i, j int) bool {
			if want[i].n != want[j].n {
				return want[i].n > want[j].n
			}
			return want[i].typ < want[j].typ
		})
		if len(want) > 10 {
			want = want[:10]
		}
		wantCols(t, res, "event_type", "events", "value_sum")
		if len(res.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
		}
		for i, row := range res.Rows {
			if row[0] != want[i].typ || row[1] != want[i].n {
				t.Errorf("rank %d: %v %v, want %s %d", i+1, row[0], row[1], want[i].typ, want[i].n)
			}
		}
	}},
	"active_users": {params: map[string]string{"day": "2026-11-22"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		wantCols(t, res, "day", "dau", "wau", "mau")
		day := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
		if len(res.Rows) != 1 || !res.Rows[0][0].(time.Time).Equal(day) {
			t.Fatalf("rows %v, want one for %s", res.Rows, day)
		}
		for i, days := range []int{1, 7, 30} {
			from := day.AddDate(0, 0, 1-days)
			in := func(w time.Time) bool { return !w.Before(from) && !w.After(day) }
			want := goMerge(t, f, func(r views.Row) bool { return in(r.WindowStart) })
			exact := exactUsers(f, func(e event.Event) bool { return in(agg.Window(e.EventTime, agg.Day)) })
			got := res.Rows[0][i+1].(int64)
			if got != want || exact == 0 || math.Abs(float64(got-exact)) > hll.Tolerance*float64(exact) {
				t.Errorf("%s: %d, want the Go merge's %d (exact distinct users %d)", res.Columns[i+1], got, want, exact)
			}
		}
		if res.Rows[0][1] == res.Rows[0][2] {
			t.Errorf("dau = wau = %v: the fixture's two days should differ", res.Rows[0][1])
		}
	}},
	"active_users_per_day": {params: map[string]string{"since": "2026-11-21"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		wantCols(t, res, "day", "dau", "wau", "mau")
		days := []time.Time{time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}
		if len(res.Rows) != len(days) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(days))
		}
		for r, day := range days {
			if !res.Rows[r][0].(time.Time).Equal(day) {
				t.Fatalf("row %d is day %v, want %s", r, res.Rows[r][0], day)
			}
			for i, n := range []int{1, 7, 30} {
				from := day.AddDate(0, 0, 1-n)
				in := func(w time.Time) bool { return !w.Before(from) && !w.After(day) }
				want := goMerge(t, f, func(r views.Row) bool { return in(r.WindowStart) })
				exact := exactUsers(f, func(e event.Event) bool { return in(agg.Window(e.EventTime, agg.Day)) })
				got := res.Rows[r][i+1].(int64)
				if got != want || math.Abs(float64(got-exact)) > hll.Tolerance*float64(exact) {
					t.Errorf("%s %s: %d, want the Go merge's %d (exact %d)", day.Format("2006-01-02"), res.Columns[i+1], got, want, exact)
				}
			}
		}
	}},
	"active_users_by": {params: map[string]string{"dimension": "event_type", "since": "2026-11-22", "until": "2026-11-22"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		wantCols(t, res, "value", "users")
		types := map[string]bool{}
		for _, e := range f.distinct() {
			if e.Dt() == "2026-11-22" {
				types[e.EventType] = true
			}
		}
		if len(res.Rows) != len(types) || len(types) < 2 {
			t.Fatalf("%d rows, want one per event type (%d)", len(res.Rows), len(types))
		}
		for i, row := range res.Rows {
			typ, got := row[0].(string), row[1].(int64)
			want := goMerge(t, f, func(r views.Row) bool {
				return r.EventType == typ && r.WindowStart.Format("2006-01-02") == "2026-11-22"
			})
			exact := exactUsers(f, func(e event.Event) bool { return e.EventType == typ && e.Dt() == "2026-11-22" })
			if got != want || math.Abs(float64(got-exact)) > hll.Tolerance*float64(exact) {
				t.Errorf("%s: %d users, want the Go merge's %d (exact %d)", typ, got, want, exact)
			}
			if i > 0 && got > res.Rows[i-1][1].(int64) {
				t.Errorf("rows not by users descending at %d", i)
			}
		}
	}},
	"value_per_day": {check: func(t *testing.T, f *fixture, res *queries.Result) {
		type key struct {
			day time.Time
			typ string
		}
		values, events := map[key]float64{}, map[key]int64{}
		for _, e := range f.distinct() {
			k := key{agg.Window(e.EventTime, agg.Day), e.EventType}
			values[k] += e.Value
			events[k]++
		}
		wantCols(t, res, "day", "event_type", "value_sum", "events")
		if len(res.Rows) != len(values) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(values))
		}
		for _, row := range res.Rows {
			k := key{row[0].(time.Time), row[1].(string)}
			if !near(row[2].(float64), values[k]) || row[3] != events[k] {
				t.Errorf("%v: value %v events %v, want %v %d", k, row[2], row[3], values[k], events[k])
			}
		}
	}},
	"rejected_by_reason": {params: map[string]string{"since": "2026-11-22"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		want := map[[2]string]int64{}
		for _, r := range f.errs {
			if r.received.Format("2006-01-02") < "2026-11-22" {
				continue
			}
			want[[2]string{r.received.Format("2006-01-02"), string(r.reason)}]++
		}
		wantCols(t, res, "day", "reason", "records")
		if len(res.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
		}
		for _, row := range res.Rows {
			k := [2]string{row[0].(string), row[1].(string)}
			if row[2] != want[k] {
				t.Errorf("%v: %v records, want %d", k, row[2], want[k])
			}
		}
	}},
	"freshness": {params: map[string]string{"now": "2026-11-22 10:20:00"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		var newest time.Time
		for _, e := range f.distinct() {
			if h := e.EventTime.Truncate(time.Hour); h.After(newest) {
				newest = h
			}
		}
		wantCols(t, res, "watermark", "newest_hour", "lag_seconds")
		if len(res.Rows) != 1 {
			t.Fatalf("%d rows", len(res.Rows))
		}
		row := res.Rows[0]
		lag := int64(f.now.Sub(f.watermark) / time.Second)
		if !row[0].(time.Time).Equal(f.watermark) || !row[1].(time.Time).Equal(newest) || row[2] != lag {
			t.Errorf("got %v, want %v %v %d", row, f.watermark, newest, lag)
		}
	}},
	"raw_events_hour": {params: map[string]string{"dt": "2026-11-22", "hour": "7"}, check: func(t *testing.T, f *fixture, res *queries.Result) {
		var want []event.Event
		for _, e := range f.raw {
			if e.Dt() == "2026-11-22" && e.Hour() == "07" {
				want = append(want, e)
			}
		}
		sort.SliceStable(want, func(i, j int) bool {
			a, b := want[i], want[j]
			if !a.EventTime.Equal(b.EventTime) {
				return a.EventTime.Before(b.EventTime)
			}
			if a.EventID != b.EventID {
				return a.EventID < b.EventID
			}
			return a.ReceivedTime.Before(b.ReceivedTime)
		})
		wantCols(t, res, "event_id", "event_type", "event_time", "user_id", "session_id", "source", "value", "received_time")
		if len(want) == 0 || len(res.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(res.Rows), len(want))
		}
		for i, row := range res.Rows {
			e := want[i]
			var sess, val any
			if e.SessionID != "" {
				sess = e.SessionID
			}
			if e.HasValue {
				val = e.Value
			}
			got := fmt.Sprint(row)
			exp := fmt.Sprint([]any{e.EventID, e.EventType, e.EventTime, e.UserID, sess, e.Source, val, e.ReceivedTime})
			if got != exp {
				t.Errorf("row %d: %s, want %s", i, got, exp)
			}
		}
	}},
}

// checkUsers compares a users_view query's rows (day, group, users, layer)
// with the exact distinct users of the fixture's events per day from since
// on, per group (group of an event, then the all-groups name): within
// hll.Tolerance,
// and from the speed layer exactly on the days with events after the
// watermark.
func checkUsers(t *testing.T, f *fixture, res *queries.Result, since string, group func(event.Event) (string, string)) {
	t.Helper()
	type key struct {
		day   time.Time
		group string
	}
	exact, speed := map[key]map[string]bool{}, map[time.Time]bool{}
	for _, e := range f.distinct() {
		if e.Dt() < since {
			continue
		}
		day := agg.Window(e.EventTime, agg.Day)
		g, all := group(e)
		for _, k := range []key{{day, g}, {day, all}} {
			if exact[k] == nil {
				exact[k] = map[string]bool{}
			}
			exact[k][e.UserID] = true
		}
		if f.layer(e) == views.LayerSpeed {
			speed[day] = true
		}
	}
	if len(res.Rows) != len(exact) {
		t.Fatalf("%d rows, want %d", len(res.Rows), len(exact))
	}
	for _, row := range res.Rows {
		k := key{row[0].(time.Time), row[1].(string)}
		want := int64(len(exact[k]))
		got := row[2].(int64)
		if want == 0 || math.Abs(float64(got-want)) > hll.Tolerance*float64(want) {
			t.Errorf("%v: %d users, exact %d", k, got, want)
		}
		if layer := row[3].(string); (layer == views.LayerSpeed) != speed[k.day] {
			t.Errorf("%v: layer %s", k, layer)
		}
	}
}

// goMerge is the Go package's own merge of the fixture's merged day rows
// that keep selects (as Trino's merge() does), and its cardinality.
func goMerge(t *testing.T, f *fixture, keep func(r views.Row) bool) int64 {
	t.Helper()
	acc := hll.New()
	for _, r := range f.mergedDays {
		if !keep(r) {
			continue
		}
		s, err := r.Sketch()
		if err != nil {
			t.Fatal(err)
		}
		if err := acc.Merge(s); err != nil {
			t.Fatal(err)
		}
	}
	return acc.Cardinality()
}

// exactUsers counts the distinct users of the fixture's events that keep
// selects.
func exactUsers(f *fixture, keep func(e event.Event) bool) int64 {
	us := map[string]bool{}
	for _, e := range f.distinct() {
		if keep(e) {
			us[e.UserID] = true
		}
	}
	return int64(len(us))
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func wantCols(t *testing.T, res *queries.Result, cols ...string) {
	t.Helper()
	if strings.Join(res.Columns, ",") != strings.Join(cols, ",") {
		t.Fatalf("columns %v, want %v", res.Columns, cols)
	}
}

// TestNamedQueriesMatchGo runs every named query on DuckDB over the
// fixture, once with bound parameters and once as Athena would run it
// (literals substituted), and checks both against Go.
func TestNamedQueriesMatchGo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(7)
	f.write(t, dir)
	r, err := local.Open(ctx, local.DirsUnder(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	all, err := queries.All()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range all {
		t.Run(q.Name, func(t *testing.T) {
			c, ok := checks[q.Name]
			if !ok {
				t.Fatalf("query %s has no check in this test: add one", q.Name)
			}
			vals, err := q.Bind(c.params, f.now)
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(ctx, q, vals)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, f, res)
			stmt, err := q.Substitute(vals)
			if err != nil {
				t.Fatal(err)
			}
			res2, err := r.Exec(ctx, q.Name, stmt)
			if err != nil {
				t.Fatalf("substituted statement: %v\n%s", err, stmt)
			}
			if !sameResult(res, res2) {
				t.Errorf("substituted statement gave a different result:\n%v\n%v", res2, res)
			}
		})
	}
}

// sameResult compares two results, floats within rounding (sums may add in
// a different order).
func sameResult(a, b *queries.Result) bool {
	if fmt.Sprint(a.Columns) != fmt.Sprint(b.Columns) || len(a.Rows) != len(b.Rows) {
		return false
	}
	for i := range a.Rows {
		for j := range a.Rows[i] {
			x, y := a.Rows[i][j], b.Rows[i][j]
			if fx, ok := x.(float64); ok {
				if fy, ok := y.(float64); !ok || !near(fx, fy) {
					return false
				}
				continue
			}
			if fmt.Sprint(x) != fmt.Sprint(y) {
				return false
			}
		}
	}
	return true
}

// TestLambdasDoNotLinkDuckDB keeps DuckDB (cgo, tens of MB) out of every
// Lambda binary: only the command line and tests may import this package.
func TestLambdasDoNotLinkDuckDB(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "../../lambdas/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "github.com/lambdastack/lambdastack/lambdas/") {
		t.Fatalf("go list found no Lambda packages:\n%s", out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "duckdb") || dep == "github.com/lambdastack/lambdastack/queries/local" {
			t.Errorf("a Lambda binary depends on %s", dep)
		}
	}
}

// TestRawEventsAsParquet reads raw events stored as Parquet (Firehose's
// format conversion, or any engine) the same as gzip NDJSON: DuckDB copies
// one hour of the fixture to Parquet and the drill-down gives the same rows.
func TestRawEventsAsParquet(t *testing.T) {
	ctx := context.Background()
	dir, pq := t.TempDir(), t.TempDir()
	f := newFixture(3)
	f.write(t, dir)
	r, err := local.Open(ctx, local.DirsUnder(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	part := filepath.Join(pq, "events", "dt=2026-11-22", "hour=07")
	if err := os.MkdirAll(part, 0o755); err != nil {
		t.Fatal(err)
	}
	cols := "event_id, event_type, event_time, user_id, session_id, source, value, attributes, received_time"
	if _, err := r.Exec(ctx, "copy", fmt.Sprintf("COPY (SELECT %s FROM raw_events WHERE dt = '2026-11-22' AND hour = '07') TO '%s' (FORMAT parquet)",
		cols, filepath.ToSlash(filepath.Join(part, "part-0.parquet")))); err != nil {
		t.Fatal(err)
	}
	p, err := local.Open(ctx, local.Dirs{Raw: pq, Views: pq})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	q, err := queries.Get("raw_events_hour")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := q.Bind(map[string]string{"dt": "2026-11-22", "hour": "07"}, f.now)
	if err != nil {
		t.Fatal(err)
	}
	want, err := r.Run(ctx, q, vals)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Run(ctx, q, vals)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Rows) == 0 || !sameResult(got, want) {
		t.Fatalf("Parquet raw events: %d rows, NDJSON %d rows", len(got.Rows), len(want.Rows))
	}
}
