package speed_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

var (
	arrival = time.Date(2026, 11, 22, 11, 30, 0, 0, time.UTC)
	hour10  = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	hour11  = time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)
)

// ev is one test event.
type ev struct {
	id, typ, user, source string
	at                    time.Time
	value                 float64
}

func (e ev) json() []byte {
	s := fmt.Sprintf(`{"event_id":%q,"event_type":%q,"event_time":%q,"user_id":%q`, e.id, e.typ, e.at.Format(time.RFC3339Nano), e.user)
	if e.source != "" {
		s += fmt.Sprintf(`,"source":%q`, e.source)
	}
	if e.value != 0 {
		s += fmt.Sprintf(`,"value":%g`, e.value)
	}
	return []byte(s + "}")
}

// kinesisEvent builds an event of one shard whose records carry payloads
// and sequence numbers seq, seq+1, …
func kinesisEvent(shard string, seq int, payloads ...[]byte) events.KinesisEvent {
	var out events.KinesisEvent
	for i, p := range payloads {
		sn := fmt.Sprintf("%056d", seq+i)
		out.Records = append(out.Records, events.KinesisEventRecord{
			EventID:        shard + ":" + sn,
			EventSource:    "aws:kinesis",
			EventName:      "aws:kinesis:record",
			EventSourceArn: "arn:aws:kinesis:us-east-1:123456789012:stream/events",
			Kinesis: events.KinesisRecord{
				Data: p, SequenceNumber: sn, PartitionKey: "pk",
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
			},
		})
	}
	return out
}

func newHandler(t *testing.T) (*speed.Handler, *storage.Local) {
	t.Helper()
	st, err := storage.NewLocal(filepath.Join(t.TempDir(), "views"))
	if err != nil {
		t.Fatal(err)
	}
	return &speed.Handler{Store: st, Now: func() time.Time { return arrival }}, st
}

// readView decodes every speed object under the store into one table,
// merging as the merge does.
func readView(t *testing.T, st storage.Store) (agg.Table, []storage.ObjectInfo) {
	t.Helper()
	ctx := context.Background()
	objs, err := st.List(ctx, "speed/")
	if err != nil {
		t.Fatal(err)
	}
	tbl := agg.Table{}
	for _, o := range objs {
		data, err := storage.ReadAll(ctx, st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			t.Fatalf("decoding %s: %v", o.Key, err)
		}
		part := agg.Table{}
		for i := range rows {
			a, err := rows[i].Aggregate()
			if err != nil {
				t.Fatal(err)
			}
			if !a.Tracked() {
				t.Fatalf("%s: row %v carries no fingerprints", o.Key, rows[i].Key())
			}
			part[rows[i].Key()] = a
		}
		if err := tbl.Merge(part); err != nil {
			t.Fatal(err)
		}
	}
	return tbl, objs
}

func totals(tbl agg.Table) (events int64, sum float64) {
	for _, k := range tbl.Keys() { // in key order: float sums depend on order
		events += tbl[k].Events
		sum += tbl[k].ValueSum
	}
	return events, sum
}

func snapshot(t *testing.T, st storage.Store) map[string][]byte {
	t.Helper()
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, o := range objs {
		data, err := storage.ReadAll(context.Background(), st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = data
	}
	return out
}

func TestHandleAggregatesPerHourAndSkipsBadRecords(t *testing.T) {
	h, st := newHandler(t)
	batch := kinesisEvent("shardId-000000000001", 100,
		ev{id: "a", typ: "page_view", user: "u1", source: "web", at: hour10.Add(5 * time.Minute), value: 1.5}.json(),
		ev{id: "b", typ: "page_view", user: "u2", source: "web", at: hour11.Add(time.Minute), value: 2}.json(),
		[]byte(`{"event_id":"c","event_type":"page_view"`),                                                           // truncated
		ev{id: "a", typ: "page_view", user: "u1", source: "web", at: hour10.Add(5 * time.Minute), value: 1.5}.json(), // producer retry
		[]byte(`{"event_id":"d","event_type":"click","event_time":"2026-11-22T10:10:00Z"}`),                          // no user_id
		ev{id: "e", typ: "click", user: "u1", at: hour10.Add(30 * time.Minute)}.json(),
		ev{id: "f", typ: "page_view", user: "u3", source: "web", at: hour10, value: -0.5}.json(),
		ev{id: "g", typ: "page_view", user: "u3", at: arrival.Add(time.Hour)}.json(), // future
	)
	resp, err := h.Handle(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v, want none", resp.BatchItemFailures)
	}
	res := h.Process(context.Background(), batch) // the same batch again: same result
	want := map[string]int{"invalid_json": 1, "missing_field": 1, "future_time": 1}
	if fmt.Sprint(res.Invalid) != fmt.Sprint(want) || res.Duplicates != 1 || res.Events != 4 || res.Records != 8 || res.UserRecords != 8 {
		t.Fatalf("result %+v", res)
	}
	tbl, objs := readView(t, st)
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	wantKeys := []string{
		"speed/dt=2026-11-22/hour=10/shardId-000000000001-" + fmt.Sprintf("%056d-%056d", 100, 107) + ".parquet",
		"speed/dt=2026-11-22/hour=11/shardId-000000000001-" + fmt.Sprintf("%056d-%056d", 100, 107) + ".parquet",
	}
	if strings.Join(keys, "\n") != strings.Join(wantKeys, "\n") {
		t.Fatalf("objects\n%s\nwant\n%s", strings.Join(keys, "\n"), strings.Join(wantKeys, "\n"))
	}
	for _, tc := range []struct {
		key          agg.Key
		events       int64
		sum          float64
		users        int64
		fingerprints []string
	}{
		{agg.Key{WindowStart: hour10, EventType: "page_view", Source: "web"}, 2, 1.0, 2, []string{"a", "f"}},
		{agg.Key{WindowStart: hour10, EventType: "click", Source: "unknown"}, 1, 0, 1, []string{"e"}},
		{agg.Key{WindowStart: hour11, EventType: "page_view", Source: "web"}, 1, 2, 1, []string{"b"}},
	} {
		a, ok := tbl[tc.key]
		if !ok {
			t.Fatalf("no row %v in %v", tc.key, tbl.Keys())
		}
		if a.Events != tc.events || a.ValueSum != tc.sum || a.UsersEstimate() != tc.users {
			t.Errorf("%v: events %d sum %g users %d, want %d %g %d", tc.key, a.Events, a.ValueSum, a.UsersEstimate(), tc.events, tc.sum, tc.users)
		}
		for _, id := range tc.fingerprints {
			if _, ok := a.Seen[agg.Fingerprint(id)]; !ok {
				t.Errorf("%v lacks the fingerprint of %s", tc.key, id)
			}
		}
	}
	if len(tbl) != 3 {
		t.Fatalf("%d rows, want 3", len(tbl))
	}
}

func TestRetriedBatchOverwritesTheSameObjects(t *testing.T) {
	h, st := newHandler(t)
	var payloads [][]byte
	for i := range 200 {
		payloads = append(payloads, ev{id: fmt.Sprint("e", i), typ: []string{"view", "click"}[i%2], user: fmt.Sprint("u", i%37),
			source: []string{"web", "ios", "android"}[i%3], at: hour10.Add(time.Duration(i) * 20 * time.Second), value: float64(i) / 10}.json())
	}
	batch := kinesisEvent("shardId-000000000000", 1, payloads...)
	if _, err := h.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	first := snapshot(t, st)
	tbl1, _ := readView(t, st)
	if _, err := h.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	second := snapshot(t, st)
	tbl2, _ := readView(t, st)
	if len(first) != 2 || len(second) != len(first) {
		t.Fatalf("objects %d then %d, want 2 both times", len(first), len(second))
	}
	for k, b := range first {
		if !bytes.Equal(b, second[k]) {
			t.Errorf("%s changed on retry", k)
		}
	}
	e1, s1 := totals(tbl1)
	e2, s2 := totals(tbl2)
	if e1 != 200 || e2 != 200 || s1 != s2 {
		t.Fatalf("totals %d/%g then %d/%g, want 200 events both times", e1, s1, e2, s2)
	}
}

func TestTwoBatchesOfOneHourAddUp(t *testing.T) {
	h, st := newHandler(t)
	mk := func(ids ...int) [][]byte {
		var out [][]byte
		for _, i := range ids {
			out = append(out, ev{id: fmt.Sprint("e", i), typ: "view", user: fmt.Sprint("u", i), source: "web", at: hour11.Add(time.Duration(i) * time.Second), value: 1}.json())
		}
		return out
	}
	// The second batch holds e2 again: a producer retry that landed in a
	// later batch.
	for _, b := range []events.KinesisEvent{
		kinesisEvent("shardId-000000000000", 10, mk(1, 2, 3)...),
		kinesisEvent("shardId-000000000000", 13, mk(2, 4, 5, 6)...),
	} {
		resp, err := h.Handle(context.Background(), b)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("handle: %v %v", resp, err)
		}
	}
	tbl, objs := readView(t, st)
	if len(objs) != 2 {
		t.Fatalf("%d objects, want 2", len(objs))
	}
	a := tbl[agg.Key{WindowStart: hour11, EventType: "view", Source: "web"}]
	if a == nil || a.Events != 6 || a.ValueSum != 6 || a.UsersEstimate() != 6 {
		t.Fatalf("merged %+v, want 6 events, sum 6, 6 users", a)
	}
}

// failingStore fails Put for keys that contain fail.
type failingStore struct {
	storage.Store
	fail string
}

func (f *failingStore) Put(ctx context.Context, key string, data []byte) error {
	if f.fail != "" && strings.Contains(key, f.fail) {
		return errors.New("injected write error")
	}
	return f.Store.Put(ctx, key, data)
}

func TestFailedWriteNamesFirstRecordOfUnwrittenHour(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     string // part of the failing key
		wantSeq  int    // -1: no failure
		wantObjs int
	}{
		{"no failure", "", -1, 2},
		{"hour 11 fails", "hour=11", 2, 1}, // b, seq 2, is the first hour-11 record
		{"hour 10 fails", "hour=10", 1, 1}, // a, seq 1, after the poison record
		{"all fail", "speed/", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, st := newHandler(t)
			fs := &failingStore{Store: st, fail: tc.fail}
			h.Store = fs
			var log bytes.Buffer
			h.Log = &log
			payloads := [][]byte{
				[]byte(`not json`), // a poison record first: never blocks
				ev{id: "a", typ: "view", user: "u1", at: hour10}.json(),
				ev{id: "b", typ: "view", user: "u1", at: hour11}.json(),
				ev{id: "c", typ: "view", user: "u2", at: hour10.Add(time.Minute)}.json(),
				ev{id: "d", typ: "view", user: "u2", at: hour11.Add(time.Minute)}.json(),
			}
			batch := kinesisEvent("shardId-000000000000", 0, payloads...)
			resp, err := h.Handle(context.Background(), batch)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantSeq < 0 {
				if len(resp.BatchItemFailures) != 0 {
					t.Fatalf("failures %v, want none", resp.BatchItemFailures)
				}
			} else {
				want := fmt.Sprintf("%056d", tc.wantSeq)
				if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != want {
					t.Fatalf("failures %v, want one naming %s", resp.BatchItemFailures, want)
				}
				if !strings.Contains(log.String(), "injected write error") {
					t.Errorf("log %q does not say what failed", log.String())
				}
				// The event source mapping retries from the named record;
				// this time the store works.
				fs.fail = ""
				retry := kinesisEvent("shardId-000000000000", tc.wantSeq, payloads[tc.wantSeq:]...)
				if resp, err := h.Handle(context.Background(), retry); err != nil || len(resp.BatchItemFailures) != 0 {
					t.Fatalf("retry: %v %v", resp, err)
				}
			}
			tbl, _ := readView(t, st)
			if n, _ := totals(tbl); n != 4 {
				t.Fatalf("%d events after retries, want 4", n)
			}
		})
	}
}

func TestPoisonRecordsAreCountedAndSkipped(t *testing.T) {
	h, st := newHandler(t)
	h.Deaggregate = func(data []byte) ([][]byte, bool, error) {
		switch {
		case bytes.HasPrefix(data, []byte("AGG:")):
			return bytes.Split(data[4:], []byte("\n")), true, nil
		case bytes.HasPrefix(data, []byte("BADAGG")):
			return nil, true, errors.New("malformed")
		}
		return nil, false, nil
	}
	batch := kinesisEvent("shardId-000000000000", 0,
		append([]byte("AGG:"), bytes.Join([][]byte{
			ev{id: "a", typ: "view", user: "u1", at: hour10}.json(),
			ev{id: "b", typ: "view", user: "u2", at: hour10}.json(),
			[]byte(`{"event_id":1}`),
		}, []byte("\n"))...),
		[]byte("BADAGG"),
		ev{id: "c", typ: "view", user: "u3", at: hour10}.json(),
	)
	// A record without a usable shard id.
	batch.Records = append(batch.Records, events.KinesisEventRecord{EventID: "no-colon",
		Kinesis: events.KinesisRecord{Data: ev{id: "z", typ: "view", user: "u", at: hour10}.json()}})
	resp, err := h.Handle(context.Background(), batch)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle: %v %v", resp, err)
	}
	res := h.Process(context.Background(), batch)
	want := map[string]int{speed.ReasonBadAggregate: 1, speed.ReasonBadRecord: 1, "bad_type": 1}
	if fmt.Sprint(res.Invalid) != fmt.Sprint(want) || res.Events != 3 || res.UserRecords != 6 || res.Records != 4 {
		t.Fatalf("result %+v, want invalid %v, 3 events of 6 user records", res, want)
	}
	tbl, _ := readView(t, st)
	if n, _ := totals(tbl); n != 3 {
		t.Fatalf("%d events written, want 3", n)
	}
}

func TestMetricsAreEmbeddedMetricFormat(t *testing.T) {
	h, _ := newHandler(t)
	var out bytes.Buffer
	h.Metrics, h.Stage = &out, "prod"
	batch := kinesisEvent("shardId-000000000000", 0,
		ev{id: "a", typ: "view", user: "u1", at: hour10}.json(),
		ev{id: "a", typ: "view", user: "u1", at: hour10}.json(),
		[]byte(`{}`), []byte(`[`))
	if _, err := h.Handle(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d metric lines, want 3:\n%s", len(lines), out.String())
	}
	type directive struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []struct{ Name, Unit string }
	}
	var got []map[string]any
	for _, l := range lines {
		var doc struct {
			AWS struct {
				Timestamp         int64
				CloudWatchMetrics []directive
			} `json:"_aws"`
		}
		var flat map[string]any
		if err := json.Unmarshal([]byte(l), &doc); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if err := json.Unmarshal([]byte(l), &flat); err != nil {
			t.Fatal(err)
		}
		if doc.AWS.Timestamp != arrival.UnixMilli() || len(doc.AWS.CloudWatchMetrics) != 1 {
			t.Fatalf("line %q: bad metadata", l)
		}
		d := doc.AWS.CloudWatchMetrics[0]
		// The batch line and the reason lines: their dimension sets, the
		// stage first, exactly (infra alarms on these).
		wantDims := "[[Stage Layer]]"
		if len(got) > 0 {
			wantDims = "[[Stage Layer Reason]]"
		}
		if fmt.Sprint(d.Dimensions) != wantDims || d.Namespace != "lambdastack" {
			t.Errorf("line %d: namespace %s dimensions %v, want lambdastack %s", len(got), d.Namespace, d.Dimensions, wantDims)
		}
		if flat["Stage"] != "prod" || flat["Layer"] != "speed" {
			t.Errorf("line %q: Stage %v Layer %v, want prod speed", l, flat["Stage"], flat["Layer"])
		}
		// Every dimension and metric named must be a member of the line.
		for _, set := range d.Dimensions {
			for _, dim := range set {
				if _, ok := flat[dim].(string); !ok {
					t.Errorf("line %q: dimension %s missing", l, dim)
				}
			}
		}
		for _, m := range d.Metrics {
			if _, ok := flat[m.Name].(float64); !ok || m.Unit != "Count" {
				t.Errorf("line %q: metric %s missing", l, m.Name)
			}
		}
		got = append(got, flat)
	}
	want := map[string]float64{"Records": 4, "UserRecords": 4, "Events": 1, "Duplicates": 1, "InvalidRecords": 2, "ObjectsWritten": 1, "ObjectsFailed": 0}
	for k, v := range want {
		if got[0][k] != v {
			t.Errorf("%s = %v, want %v", k, got[0][k], v)
		}
	}
	if got[1]["Reason"] != "invalid_json" || got[1]["InvalidRecords"] != 1.0 ||
		got[2]["Reason"] != "missing_field" || got[2]["InvalidRecords"] != 1.0 {
		t.Errorf("reason lines %v %v", got[1], got[2])
	}
}

func TestObjectKey(t *testing.T) {
	got := speed.ObjectKey("shardId-000000000007", "49568167373333333333333333333333333333333333333333333333", "49568167373333333334444444444444444444444444444444444444",
		time.Date(2026, 1, 2, 3, 0, 0, 0, time.FixedZone("x", 3600)))
	want := "speed/dt=2026-01-02/hour=02/shardId-000000000007-49568167373333333333333333333333333333333333333333333333-49568167373333333334444444444444444444444444444444444444.parquet"
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

// The sample payload aws-lambda-go ships: real Kinesis event JSON whose
// records hold "Hello World", which is no event.
func TestAWSSamplePayload(t *testing.T) {
	data, err := os.ReadFile("testdata/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	var batch events.KinesisEvent
	if err := json.Unmarshal(data, &batch); err != nil {
		t.Fatal(err)
	}
	h, st := newHandler(t)
	res := h.Process(context.Background(), batch)
	if res.Records != 2 || res.Invalid["invalid_json"] != 2 || res.Events != 0 || len(res.Failures) != 0 {
		t.Fatalf("result %+v, want 2 invalid_json records", res)
	}
	if objs, _ := st.List(context.Background(), ""); len(objs) != 0 {
		t.Fatalf("wrote %v for a batch without events", objs)
	}
}

// The handler builds rows without tracked aggregates (for speed); they must
// be exactly what agg and views make of the same events: same bytes.
func TestObjectsEqualTrackedAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var payloads [][]byte
	tables := map[time.Time]agg.Table{}
	for range 3000 {
		// A redelivery carries the same event: all fields follow from the id.
		id := fmt.Sprint("e", r.IntN(2500))
		rr := rand.New(rand.NewPCG(agg.Fingerprint(id), 5))
		e := ev{id: id, typ: []string{"a", "b", "c"}[rr.IntN(3)], user: fmt.Sprint("u", rr.IntN(400)),
			source: []string{"", "web", "ios"}[rr.IntN(3)],
			at:     hour10.Add(time.Duration(rr.IntN(6300)) * time.Second), // before arrival+15m
			value:  float64(rr.IntN(1e6)) / 7}
		payloads = append(payloads, e.json())
		src := e.source
		if src == "" {
			src = "unknown"
		}
		w := agg.Window(e.at, agg.Hour)
		if tables[w] == nil {
			tables[w] = agg.Table{}
		}
		tables[w].Get(agg.Key{WindowStart: w, EventType: e.typ, Source: src}, true).Add(agg.Fingerprint(e.id), agg.UserHash(e.user), e.value)
	}
	h, st := newHandler(t)
	res := h.Process(context.Background(), kinesisEvent("shardId-000000000000", 1, payloads...))
	if len(res.Objects) != len(tables) {
		t.Fatalf("%d objects, want %d", len(res.Objects), len(tables))
	}
	for _, o := range res.Objects {
		tbl := tables[o.Hour]
		for _, a := range tbl {
			a.Normalize()
		}
		rows, err := views.Rows(tbl)
		if err != nil {
			t.Fatal(err)
		}
		want, err := views.Encode(glue.SpeedView, rows)
		if err != nil {
			t.Fatal(err)
		}
		got, err := storage.ReadAll(context.Background(), st, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the tracked aggregates' encoding", o.Key)
		}
	}
}

func TestKPLAggregatedRecords(t *testing.T) {
	var a streaming.Aggregator
	for _, e := range []ev{
		{id: "k1", typ: "view", user: "u1", at: hour10},
		{id: "k2", typ: "view", user: "u2", at: hour10},
		{id: "k1", typ: "view", user: "u1", at: hour10}, // a retry the producer packed again
	} {
		a.Add(streaming.Record{PartitionKey: e.user, Data: e.json()})
	}
	agg1 := a.Bytes()
	// Magic bytes and a matching MD5 around a broken protobuf: poison.
	body := []byte{0x1a, 0xff, 0x01}
	sum := md5.Sum(body)
	broken := append(append([]byte{0xF3, 0x89, 0x9A, 0xC2}, body...), sum[:]...)
	h, st := newHandler(t) // Deaggregate nil: the KPL codec
	res := h.Process(context.Background(), kinesisEvent("shardId-000000000000", 1, agg1, broken,
		ev{id: "k3", typ: "view", user: "u3", at: hour10}.json()))
	if res.Records != 3 || res.UserRecords != 5 || res.Events != 3 || res.Duplicates != 1 || res.Invalid[speed.ReasonBadAggregate] != 1 || len(res.Failures) != 0 {
		t.Fatalf("result %+v", res)
	}
	tbl, _ := readView(t, st)
	if n, _ := totals(tbl); n != 3 {
		t.Fatalf("%d events written, want 3", n)
	}
}

// TestMetricsNeedAStage: without a stage the handler writes no metric line
// (it would mix with every other stage's) and says why; the batch itself
// is unaffected.
func TestMetricsNeedAStage(t *testing.T) {
	h, _ := newHandler(t)
	var out, log bytes.Buffer
	h.Metrics, h.Log = &out, &log
	resp, err := h.Handle(context.Background(), kinesisEvent("shardId-000000000000", 0, ev{id: "a", typ: "view", user: "u1", at: hour10}.json()))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("handle: %v %v", resp, err)
	}
	if out.Len() != 0 || !strings.Contains(log.String(), "no stage for the Stage dimension") {
		t.Fatalf("metrics %q, log %q", out.String(), log.String())
	}
}
