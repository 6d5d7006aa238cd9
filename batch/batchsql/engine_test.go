package batchsql_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/batch/batchsql"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

var start = time.Date(2026, 11, 30, 4, 0, 0, 0, time.UTC)

// rawHours writes generated records as raw objects per event_time hour:
// good events as the transform enriches them, plus, as another engine may
// have left them, the bad records (NDJSON only: Parquet holds typed
// columns) and a few events filed under the wrong hour. It returns the
// events of each hour's partition in write order.
func rawHours(t *testing.T, s storage.Store, parquet bool) map[time.Time][]event.Event {
	t.Helper()
	g, err := gen.New(gen.Config{Seed: 5, Events: 6000, Start: start, Hours: 3, Users: 900,
		Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.05, DupRatio: 0.05, LateRatio: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	byHour := map[time.Time][]event.Event{}
	badLines := map[time.Time][][]byte{}
	n := 0
	for !g.Done() {
		r := g.Next()
		hour := r.Arrival.UTC().Truncate(time.Hour)
		if r.Kind == gen.Bad {
			badLines[hour] = append(badLines[hour], bytes.Clone(r.Data))
			continue
		}
		e, rej := event.Validate(r.Data, r.Arrival)
		if rej != nil {
			t.Fatalf("generated good record rejected: %v", rej)
		}
		h := e.EventTime.UTC().Truncate(time.Hour)
		if n++; n%500 == 0 && h.After(start) {
			h = h.Add(-time.Hour) // filed under the wrong hour
		}
		byHour[h] = append(byHour[h], e)
	}
	extra := map[time.Time][]event.Event{}
	for h, evs := range byHour {
		key := fmt.Sprintf("events/dt=%s/hour=%s/part-0", h.Format("2006-01-02"), h.Format("15"))
		var buf bytes.Buffer
		if parquet {
			w, err := views.NewRawWriter(&buf, arrow.Microsecond, 700)
			if err != nil {
				t.Fatal(err)
			}
			for i := range evs {
				if err := w.Append(&evs[i]); err != nil {
					t.Fatal(err)
				}
			}
			// Rows that break a rule, as a careless engine may write them.
			for i, breakIt := range []func(e *event.Event){
				func(e *event.Event) { e.EventID = "" },
				func(e *event.Event) { e.EventID = strings.Repeat("x", event.MaxEventIDBytes+1) },
				func(e *event.Event) { e.EventType = "Bad Type" },
				func(e *event.Event) { e.EventType = "click\n" },
				func(e *event.Event) { e.UserID = "" },
				func(e *event.Event) { e.UserID = strings.Repeat("é", event.MaxUserIDBytes/2+1) },
				func(e *event.Event) { e.Source = strings.Repeat("s", event.MaxSourceBytes+1) },
				func(e *event.Event) { e.Source = "" }, // valid: unknown
				func(e *event.Event) { e.Value, e.HasValue = math.NaN(), true },
				func(e *event.Event) { e.Value, e.HasValue = math.Inf(-1), true },
			} {
				e := evs[i%len(evs)]
				e.EventID = fmt.Sprintf("broken-%d-%s", i, h.Format("15"))
				breakIt(&e)
				if err := w.Append(&e); err != nil {
					t.Fatal(err)
				}
				if e.Source == "" { // the one valid row: counted as unknown
					e.Source = event.DefaultSource
					extra[h] = append(extra[h], e)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			key += ".parquet"
		} else {
			zw := gzip.NewWriter(&buf)
			var line []byte
			for i := range evs {
				line = append(evs[i].AppendJSON(line[:0]), '\n')
				zw.Write(line)
			}
			for _, l := range badLines[h] {
				zw.Write(append(l, '\n'))
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			key += ".gz"
		}
		if err := s.Put(context.Background(), key, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	for h, evs := range extra {
		byHour[h] = append(byHour[h], evs...)
	}
	return byHour
}

// truthSketches is, per key of hour h, the sketch of the distinct users of
// the events that belong there, built with internal/hll directly.
func truthSketches(t *testing.T, h time.Time, evs []event.Event) map[agg.Key][]byte {
	t.Helper()
	seen := map[string]bool{}
	sk := map[agg.Key]*hll.Sketch{}
	for _, e := range evs {
		if !e.EventTime.UTC().Truncate(time.Hour).Equal(h) || seen[e.EventID] {
			continue
		}
		seen[e.EventID] = true
		k := agg.Key{WindowStart: h, EventType: e.EventType, Source: e.Source}
		if sk[k] == nil {
			sk[k] = hll.New()
		}
		sk[k].AddString(e.UserID)
	}
	out := map[agg.Key][]byte{}
	for k, s := range sk {
		b, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		out[k] = b
	}
	return out
}

// TestSQLEngineEqualsGo builds every hour with the Go engine and the sql
// engine on gzip NDJSON (with bad lines) and on Parquet (with rows that
// break rules): the same keys, events, value sums (to 1e-9: the engines
// add in different orders), users, users_sketch bytes and verdict counts;
// the sketch is also byte for byte the hll sketch of the key's distinct
// users, and users its cardinality.
func TestSQLEngineEqualsGo(t *testing.T) {
	for _, parquet := range []bool{false, true} {
		t.Run(fmt.Sprintf("parquet=%v", parquet), func(t *testing.T) {
			raw, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			byHour := rawHours(t, raw, parquet)
			objs, _, err := batch.ListRaw(context.Background(), raw, time.Time{}, start.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			perHour := map[time.Time][]batch.RawObject{}
			for _, o := range objs {
				perHour[o.Hour] = append(perHour[o.Hour], o)
			}
			if len(perHour) < 3 {
				t.Fatalf("raw data spans %d hours, want at least 3", len(perHour))
			}
			for _, h := range slices.SortedFunc(maps.Keys(perHour), time.Time.Compare) {
				compareHour(t, raw, h, perHour[h], byHour[h])
			}
		})
	}
}

// TestSQLEngineDuckDBParquet runs both engines over raw Parquet DuckDB
// wrote (batch/testdata/foreign: DuckDB 1.4.1's COPY of 3 000 events).
func TestSQLEngineDuckDBParquet(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "foreign", "duckdb-1.4.1.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's events span several hours: filed under one hour, the
	// others are wrong_hour for both engines, so each hour of the file is
	// tried in turn.
	res, err := batch.Aggregate(context.Background(), []batch.Source{{Name: "fixture", Fetch: func(context.Context) ([]byte, error) { return data, nil }}}, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hours := map[time.Time]bool{}
	for k := range res.Hours {
		hours[k.WindowStart] = true
	}
	if len(hours) == 0 {
		t.Fatal("the fixture has no events")
	}
	for h := range hours {
		key := fmt.Sprintf("events/dt=%s/hour=%s/duckdb.parquet", h.Format("2006-01-02"), h.Format("15"))
		if err := raw.Put(context.Background(), key, data); err != nil {
			t.Fatal(err)
		}
		o := batch.RawObject{ObjectInfo: storage.ObjectInfo{Key: key, Size: int64(len(data))}, Hour: h}
		compareHour(t, raw, h, []batch.RawObject{o}, nil)
	}
}

func compareHour(t *testing.T, raw storage.Store, h time.Time, objs []batch.RawObject, evs []event.Event) {
	t.Helper()
	ctx := context.Background()
	goRes, err := (&batch.GoEngine{Raw: raw}).BuildHour(ctx, h, objs)
	if err != nil {
		t.Fatal(err)
	}
	sqlRes, err := (&batchsql.Engine{Raw: raw, TempDir: t.TempDir()}).BuildHour(ctx, h, objs)
	if err != nil {
		t.Fatal(err)
	}
	name := h.Format(time.RFC3339)
	t.Logf("%s: %d records, %d valid, %d duplicates, bad %v, %d rows", name, sqlRes.Records, sqlRes.Valid, sqlRes.Duplicates, sqlRes.Bad, len(sqlRes.Rows))
	if len(goRes.Rows) == 0 {
		t.Fatalf("%s: the Go engine built no rows", name)
	}
	if goRes.Records != sqlRes.Records || goRes.Valid != sqlRes.Valid || goRes.Duplicates != sqlRes.Duplicates ||
		!reflect.DeepEqual(nonEmpty(goRes.Bad), nonEmpty(sqlRes.Bad)) {
		t.Errorf("%s: go read %d, valid %d, duplicates %d, bad %v; sql %d, %d, %d, %v", name,
			goRes.Records, goRes.Valid, goRes.Duplicates, goRes.Bad, sqlRes.Records, sqlRes.Valid, sqlRes.Duplicates, sqlRes.Bad)
	}
	if len(goRes.Rows) != len(sqlRes.Rows) {
		t.Fatalf("%s: go %d rows, sql %d", name, len(goRes.Rows), len(sqlRes.Rows))
	}
	var truth map[agg.Key][]byte
	if evs != nil {
		truth = truthSketches(t, h, evs)
	}
	for i, g := range goRes.Rows {
		s := sqlRes.Rows[i]
		if g.Key() != s.Key() || g.Events != s.Events || math.Abs(g.ValueSum-s.ValueSum) > 1e-9*math.Max(1, math.Abs(g.ValueSum)) {
			t.Errorf("%s row %d: go %v events %d sum %v; sql %v events %d sum %v", name, i, g.Key(), g.Events, g.ValueSum, s.Key(), s.Events, s.ValueSum)
			continue
		}
		if g.Users != s.Users || !bytes.Equal(g.UsersSketch, s.UsersSketch) {
			t.Errorf("%s %v: go users %d, sql %d; sketch bytes equal: %v", name, s.Key(), g.Users, s.Users, bytes.Equal(g.UsersSketch, s.UsersSketch))
		}
		sk, err := hll.Decode(s.UsersSketch)
		if err != nil {
			t.Errorf("%s %v: the sql engine's sketch does not decode: %v", name, s.Key(), err)
			continue
		}
		if sk.Cardinality() != s.Users {
			t.Errorf("%s %v: users %d, the sketch's cardinality %d", name, s.Key(), s.Users, sk.Cardinality())
		}
		if truth != nil && !bytes.Equal(truth[s.Key()], s.UsersSketch) {
			t.Errorf("%s %v: the sql engine's sketch differs from the hll sketch of the key's users", name, s.Key())
		}
	}
}

func nonEmpty(m map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range m {
		if v != 0 {
			out[k] = v
		}
	}
	return out
}
