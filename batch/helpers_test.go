package batch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// dataset is a synthetic set of events with the truth computed
// independently of the code under test.
type dataset struct {
	events []event.Event // every valid delivery, duplicates included
	bad    [][]byte      // invalid NDJSON lines
}

var types = []string{"page_view", "click", "purchase", "signup"}
var srcs = []string{"web", "ios", "android", "unknown"}

// genEvents makes n distinct events spread over [start, end), then
// redelivers dupShare of them (same event_id, same fields).
func genEvents(seed uint64, n int, start, end time.Time, dupShare float64) dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	span := end.Sub(start)
	var d dataset
	for i := 0; i < n; i++ {
		et := start.Add(time.Duration(r.Int64N(int64(span/time.Millisecond))) * time.Millisecond).UTC()
		e := event.Event{
			EventID:      fmt.Sprintf("ev-%d-%08d", seed, i),
			EventType:    types[r.IntN(len(types))],
			EventTime:    et,
			UserID:       fmt.Sprintf("user-%d", r.IntN(n/4+1)),
			Source:       srcs[r.IntN(len(srcs))],
			Value:        math.Round(r.Float64()*10000) / 100,
			HasValue:     r.IntN(10) > 0,
			ReceivedTime: et.Add(2 * time.Second),
		}
		if !e.HasValue {
			e.Value = 0
		}
		d.events = append(d.events, e)
	}
	dups := int(float64(n) * dupShare)
	for i := 0; i < dups; i++ {
		d.events = append(d.events, d.events[r.IntN(n)])
	}
	r.Shuffle(len(d.events), func(i, j int) { d.events[i], d.events[j] = d.events[j], d.events[i] })
	d.bad = [][]byte{
		[]byte(`{"event_id":"x1","event_type":"click"`),
		[]byte(`{"event_id":"x2","event_type":"Bad Type","event_time":"2026-11-21T05:00:00Z","user_id":"u","received_time":"2026-11-21T05:00:00Z"}`),
		[]byte(`{"event_id":"x3","event_type":"click","event_time":"2026-11-21T05:00:00Z","received_time":"2026-11-21T05:00:00Z"}`),
		[]byte(`not json at all`),
	}
	return d
}

// truth is the exact expected aggregate of one key.
type truth struct {
	events int64
	sum    float64
	users  map[string]bool
}

// expected computes, from the events alone, the distinct event_ids, value
// sums and distinct users per (window, type, source) at granularity g.
func expected(evs []event.Event, g agg.Granularity, keep func(time.Time) bool) map[agg.Key]*truth {
	seen := map[string]bool{}
	out := map[agg.Key]*truth{}
	for _, e := range evs {
		hour := e.EventTime.Truncate(time.Hour)
		if keep != nil && !keep(hour) {
			continue
		}
		id := hour.String() + "|" + e.EventID
		if seen[id] {
			continue
		}
		seen[id] = true
		k := agg.Key{WindowStart: agg.Window(e.EventTime, g), EventType: e.EventType, Source: e.Source}
		t := out[k]
		if t == nil {
			t = &truth{users: map[string]bool{}}
			out[k] = t
		}
		t.events++
		t.sum += e.Value
		t.users[e.UserID] = true
	}
	return out
}

// checkRows compares view rows to the truth.
func checkRows(t *testing.T, what string, rows []views.Row, want map[agg.Key]*truth) {
	t.Helper()
	got := map[agg.Key]views.Row{}
	for _, r := range rows {
		if _, dup := got[r.Key()]; dup {
			t.Errorf("%s: key %v appears twice", what, r.Key())
		}
		got[r.Key()] = r
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d keys, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		r, ok := got[k]
		if !ok {
			t.Errorf("%s: missing key %v", what, k)
			continue
		}
		if r.Events != w.events {
			t.Errorf("%s %v: events %d, want %d", what, k, r.Events, w.events)
		}
		if d := math.Abs(r.ValueSum - w.sum); d > 1e-9*math.Max(1, math.Abs(w.sum)) {
			t.Errorf("%s %v: value_sum %.12g, want %.12g", what, k, r.ValueSum, w.sum)
		}
		exact := float64(len(w.users))
		if d := math.Abs(float64(r.Users) - exact); d > hll.Tolerance*exact {
			t.Errorf("%s %v: users %d, want %d within %.3g%%", what, k, r.Users, len(w.users), 100*hll.Tolerance)
		}
		checkSketch(t, what, r, w.users)
	}
}

// checkSketch: the row's users_sketch is the sketch of its distinct users
// (what `lambdastack sketch build` and Athena's approx_set make of them),
// and users is its cardinality.
func checkSketch(t *testing.T, what string, r views.Row, users map[string]bool) {
	t.Helper()
	want := hll.New()
	for u := range users {
		want.AddString(u)
	}
	wb, err := want.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.UsersSketch, wb) {
		t.Errorf("%s %v: users_sketch is not the sketch of its %d distinct users", what, r.Key(), len(users))
	}
	if r.Users != want.Cardinality() {
		t.Errorf("%s %v: users %d, want the sketch's cardinality %d", what, r.Key(), r.Users, want.Cardinality())
	}
}

// writeRaw writes the events under events/dt=/hour=/ as three kinds of
// object per hour: gzip NDJSON (with the bad lines), plain NDJSON and
// Parquet (microsecond timestamps, as some engines write).
func writeRaw(t *testing.T, s storage.Store, evs []event.Event, bad [][]byte, tag string) {
	t.Helper()
	byHour := map[time.Time][]event.Event{}
	for _, e := range evs {
		h := e.EventTime.Truncate(time.Hour)
		byHour[h] = append(byHour[h], e)
	}
	ctx := context.Background()
	for h, hevs := range byHour {
		dir := fmt.Sprintf("events/dt=%s/hour=%02d/", h.Format("2006-01-02"), h.Hour())
		third := len(hevs) / 3
		parts := [][]event.Event{hevs[:third], hevs[third : 2*third], hevs[2*third:]}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		for _, e := range parts[0] {
			zw.Write(append(e.AppendJSON(nil), '\n'))
		}
		for _, b := range bad {
			zw.Write(append(b, '\n'))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		var plain []byte
		for _, e := range parts[1] {
			plain = append(e.AppendJSON(plain), '\r', '\n')
		}
		put(t, s, dir+tag+"-a.gz", gz.Bytes())
		put(t, s, dir+tag+"-b.json", plain)
		put(t, s, dir+tag+"-c.parquet", rawParquet(t, parts[2], arrow.Microsecond))
	}
	_ = ctx
}

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, data); err != nil {
		t.Fatal(err)
	}
}

// rawParquet writes events with the raw-events columns of DESIGN.md, in
// row groups of 500, as a session-less client with one attribute would.
func rawParquet(t testing.TB, evs []event.Event, unit arrow.TimeUnit) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := views.NewRawWriter(&buf, unit, 500)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		e.SessionID, e.Attributes = "", map[string]string{"k": "v"}
		if err := w.Append(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeSpeed writes speed objects as the speed layer does: per hour two
// objects (two "shards") whose event sets overlap, so some events are
// redelivered across objects.
func writeSpeed(t *testing.T, s storage.Store, evs []event.Event) {
	t.Helper()
	byHour := map[time.Time][]event.Event{}
	for _, e := range evs {
		h := e.EventTime.Truncate(time.Hour)
		byHour[h] = append(byHour[h], e)
	}
	for h, hevs := range byHour {
		half := len(hevs) / 2
		for i, part := range [][]event.Event{hevs[:half+len(hevs)/10], hevs[half:]} {
			tbl := agg.Table{}
			for _, e := range part {
				k := agg.Key{WindowStart: h, EventType: e.EventType, Source: e.Source}
				tbl.Get(k, true).Add(agg.Fingerprint(e.EventID), agg.UserHash(e.UserID), e.Value)
			}
			for _, a := range tbl {
				a.Normalize()
			}
			rows, err := views.Rows(tbl)
			if err != nil {
				t.Fatal(err)
			}
			data, err := views.Encode(glue.SpeedView, rows)
			if err != nil {
				t.Fatal(err)
			}
			put(t, s, fmt.Sprintf("speed/dt=%s/hour=%02d/shardId-%03d-%d-%d.parquet", h.Format("2006-01-02"), h.Hour(), i, 1, 2), data)
		}
	}
}

// readView decodes every object of a view at granularity g.
func readView(t *testing.T, s storage.Store, prefix string, g agg.Granularity) []views.Row {
	t.Helper()
	ctx := context.Background()
	infos, err := s.List(ctx, prefix+"granularity="+string(g)+"/")
	if err != nil {
		t.Fatal(err)
	}
	var rows []views.Row
	for _, o := range infos {
		data, err := storage.ReadAll(ctx, s, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := views.Decode(ctx, data)
		if err != nil {
			t.Fatalf("decoding %s: %v", o.Key, err)
		}
		rows = append(rows, rs...)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key().Less(rows[j].Key()) })
	return rows
}

func newLocal(t *testing.T) *storage.Local {
	t.Helper()
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func fixedNow(tm time.Time) func() time.Time { return func() time.Time { return tm } }

type eventT = event.Event

var glueBatch = glue.BatchView
