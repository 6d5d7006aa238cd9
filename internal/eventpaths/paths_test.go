package eventpaths_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/aws/aws-lambda-go/events"
	_ "github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/batch/batchsql"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming/speed"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

// input is what a path reads.
type input int

const (
	record  input = iota // the JSON record as a producer sends it
	line                 // an enriched NDJSON line: the record with received_time
	parquet              // a Parquet row
)

// A path reads the cases it can hold and returns each one's verdict: the
// reason, "" for accepted. Adding a path is adding an entry here.
type path struct {
	name    string
	input   input
	duckdb  bool // the path's files are written by DuckDB (no invalid UTF-8)
	sql     bool // the path is the sql engine (DuckDB reads its files)
	verdict func(t *testing.T, cs []diffCase) []event.Reason
	// object, for a batch path, writes every case into one object, so the
	// readers' row-by-row bookkeeping is tested on mixed rows too.
	object func(t *testing.T, cs []diffCase) []byte
}

func paths() []path {
	return []path{
		{name: "event.Validate", input: record, verdict: validate},
		{name: "event.ValidateLean", input: record, verdict: validateLean},
		{name: "transform (Invoke)", input: record, verdict: transformInvoke},
		{name: "transform (Handle)", input: record, verdict: transformHandle},
		{name: "speed handler", input: record, verdict: speedHandler},
		{name: "event.ParseEnriched", input: line, verdict: parseEnriched},
		{name: "batch NDJSON", input: line, verdict: batchNDJSON, object: ndjsonObject},
		parquetPath("batch Parquet direct, arrow", arrowWriter, false, false),
		parquetPath("batch Parquet pqarrow, arrow", arrowWriter, false, true),
		parquetPath("batch Parquet direct, DuckDB", duckWriter, true, false),
		parquetPath("batch Parquet pqarrow, DuckDB", duckWriter, true, true),
		sqlPath("sql engine, NDJSON", line, nil, false),
		sqlPath("sql engine, Parquet arrow", parquet, arrowWriter, false),
		sqlPath("sql engine, Parquet DuckDB", parquet, duckWriter, true),
	}
}

// held is the cases path p can hold.
func held(p path, cs []diffCase) []diffCase {
	var out []diffCase
	for _, c := range cs {
		switch {
		case p.input == parquet && (c.row == nil || (p.duckdb && c.arrowOnly)):
		case p.input != parquet && c.noJSON:
		case p.input == line && c.recordOnly:
		// DuckDB refuses a Parquet file with a string that is not UTF-8
		// (its VARCHAR holds UTF-8 only), so the sql engine counts the
		// whole object unreadable, not the row not_utf8; NDJSON lines are
		// parsed in Go and get not_utf8 there.
		case p.sql && p.input == parquet && c.want == event.ReasonNotUTF8:
		default:
			out = append(out, c)
		}
	}
	return out
}

// TestOneVerdictOnEveryPath is the differential test of the event rules:
// every path gives every case it can hold the reason the corpus names.
func TestOneVerdictOnEveryPath(t *testing.T) {
	cs := corpus()
	reasons := map[event.Reason]bool{}
	for _, c := range cs {
		reasons[c.want] = true
	}
	for _, r := range event.Reasons() {
		if !reasons[r] {
			t.Errorf("the corpus has no case for reason %s", r)
		}
	}
	for _, p := range paths() {
		t.Run(p.name, func(t *testing.T) {
			held := held(p, cs)
			t.Logf("%d of the %d cases", len(held), len(cs))
			got := p.verdict(t, held)
			for i, c := range held {
				if got[i] != c.want {
					t.Errorf("%s: reason %q, want %q", c.name, got[i], c.want)
				}
			}
		})
	}
}

// TestEveryCaseInOneObject reads each batch path's cases from one object:
// the counts by reason are the corpus'.
func TestEveryCaseInOneObject(t *testing.T) {
	cs := corpus()
	for _, p := range paths() {
		if p.object == nil {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			held := held(p, cs)
			var valid int64
			want := map[string]int64{}
			for _, c := range held {
				if c.want == "" {
					valid++
				} else {
					want[string(c.want)]++
				}
			}
			var rows, gotValid int64
			got := map[string]int64{}
			if p.sql {
				// One object per partition hour (see placement).
				byHour := map[time.Time][]diffCase{}
				for _, c := range held {
					h := placement(c)
					byHour[h] = append(byHour[h], c)
				}
				for h, cs := range byHour {
					res := buildSQL(t, p.name, h, p.object(t, cs))
					rows, gotValid = rows+res.Records, gotValid+res.Valid
					for r, n := range res.Bad {
						got[r] += n
					}
				}
			} else {
				data := p.object(t, held)
				src := batch.Source{Name: p.name, Size: int64(len(data)), Fetch: func(context.Context) ([]byte, error) { return data, nil }}
				res, err := batch.Aggregate(context.Background(), []batch.Source{src}, batch.Options{Workers: 2})
				if err != nil {
					t.Fatal(err)
				}
				rows, gotValid, got = res.Rows, res.Valid, res.Bad
			}
			if rows != int64(len(held)) || gotValid != valid || !maps.Equal(got, want) {
				t.Errorf("rows %d, valid %d, bad %v; want %d, %d, %v", rows, gotValid, got, len(held), valid, want)
			}
		})
	}
}

func validate(_ *testing.T, cs []diffCase) []event.Reason {
	out := make([]event.Reason, len(cs))
	for i, c := range cs {
		if _, rej := event.Validate([]byte(c.json), received); rej != nil {
			out[i] = rej.Reason
		}
	}
	return out
}

func validateLean(_ *testing.T, cs []diffCase) []event.Reason {
	out := make([]event.Reason, len(cs))
	for i, c := range cs {
		if _, rej := event.ValidateLean([]byte(c.json), received); rej != nil {
			out[i] = rej.Reason
		}
	}
	return out
}

func firehoseEvent(cs []diffCase) events.KinesisFirehoseEvent {
	ev := events.KinesisFirehoseEvent{InvocationID: "inv", DeliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/d", Region: "us-east-1"}
	for i, c := range cs {
		ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{RecordID: strconv.Itoa(i),
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: received}, Data: []byte(c.json)})
	}
	return ev
}

// routeReason reads a transformed record's verdict from its route key.
func routeReason(t *testing.T, r events.KinesisFirehoseResponseRecord) event.Reason {
	t.Helper()
	if r.Result != events.KinesisFirehoseTransformedStateOk {
		t.Fatalf("record %s: result %s, want Ok", r.RecordID, r.Result)
	}
	route := r.Metadata.PartitionKeys["route"]
	if route == transform.RouteEvents {
		return ""
	}
	reason, ok := strings.CutPrefix(route, transform.RouteErrorsPrefix)
	if !ok {
		t.Fatalf("record %s: route %q", r.RecordID, route)
	}
	return event.Reason(reason)
}

func transformInvoke(t *testing.T, cs []diffCase) []event.Reason {
	payload, err := json.Marshal(firehoseEvent(cs))
	if err != nil {
		t.Fatal(err)
	}
	h := &transform.Handler{Now: func() time.Time { return received }}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return transformed(t, cs, resp)
}

func transformHandle(t *testing.T, cs []diffCase) []event.Reason {
	h := &transform.Handler{Now: func() time.Time { return received }}
	resp, err := h.Handle(context.Background(), firehoseEvent(cs))
	if err != nil {
		t.Fatal(err)
	}
	return transformed(t, cs, resp)
}

func transformed(t *testing.T, cs []diffCase, resp events.KinesisFirehoseResponse) []event.Reason {
	t.Helper()
	if len(resp.Records) != len(cs) {
		t.Fatalf("%d records back, want %d", len(resp.Records), len(cs))
	}
	out := make([]event.Reason, len(cs))
	for _, r := range resp.Records {
		i, err := strconv.Atoi(r.RecordID)
		if err != nil || i < 0 || i >= len(cs) {
			t.Fatalf("record id %q", r.RecordID)
		}
		out[i] = routeReason(t, r)
	}
	return out
}

func speedHandler(t *testing.T, cs []diffCase) []event.Reason {
	store, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	h := &speed.Handler{Store: store, Now: func() time.Time { return received }}
	out := make([]event.Reason, len(cs))
	for i, c := range cs {
		rec := events.KinesisEventRecord{EventSource: "aws:kinesis", EventID: fmt.Sprintf("shardId-000000000000:%d", i+1),
			Kinesis: events.KinesisRecord{Data: []byte(c.json), PartitionKey: "p", SequenceNumber: strconv.Itoa(i + 1),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: received}}}
		res := h.Process(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{rec}})
		switch {
		case len(res.Failed) > 0:
			t.Fatalf("%s: %v", c.name, res.Failed[0].Err)
		case res.Events == 1 && len(res.Invalid) == 0:
		case res.Events == 0 && len(res.Invalid) == 1:
			for r := range res.Invalid {
				out[i] = event.Reason(r)
			}
		default:
			t.Fatalf("%s: %d events, invalid %v", c.name, res.Events, res.Invalid)
		}
	}
	return out
}

// enrichedLine is the case's record as an enriched line: received_time
// added as the last field. Records that are not an object stay as they are.
func enrichedLine(c diffCase) string {
	j := c.json
	if !strings.HasPrefix(j, "{") || !strings.HasSuffix(j, "}") || !json.Valid([]byte(j)) {
		return j
	}
	rt := `"received_time":"` + received.Format(time.RFC3339) + `"}`
	if j == "{}" {
		return "{" + rt
	}
	return j[:len(j)-1] + "," + rt
}

func parseEnriched(_ *testing.T, cs []diffCase) []event.Reason {
	out := make([]event.Reason, len(cs))
	for i, c := range cs {
		if _, err := event.ParseEnriched([]byte(enrichedLine(c))); err != nil {
			out[i] = err.(*event.Rejection).Reason
		}
	}
	return out
}

// aggregateOne runs the batch reader over one object and returns its one
// record's verdict.
func aggregateOne(t *testing.T, name string, data []byte) event.Reason {
	return aggregateOneAt(t, name, data, time.Time{})
}

// aggregateOneAt is aggregateOne with the object filed under hour (zero:
// any hour).
func aggregateOneAt(t *testing.T, name string, data []byte, hour time.Time) event.Reason {
	t.Helper()
	src := batch.Source{Name: name, Size: int64(len(data)), Hour: hour, Fetch: func(context.Context) ([]byte, error) { return data, nil }}
	res, err := batch.Aggregate(context.Background(), []batch.Source{src}, batch.Options{Workers: 1})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return oneVerdict(t, name, res.Rows, res.Valid, res.Bad)
}

// oneVerdict is the verdict of a run over one record.
func oneVerdict(t *testing.T, name string, rows, valid int64, bad map[string]int64) event.Reason {
	t.Helper()
	switch {
	case rows != 1:
		t.Fatalf("%s: %d rows read, want 1", name, rows)
	case valid == 1:
		return ""
	case len(bad) == 1:
		for r := range bad {
			return event.Reason(r)
		}
	}
	t.Fatalf("%s: valid %d, bad %v", name, valid, bad)
	return ""
}

// sqlPath is the sql engine (batchsql) over enriched NDJSON lines (w nil)
// or Parquet rows w writes with timestamp-typed times. The engine builds
// one partition hour from the objects stored under it, so each case is
// filed under its placement.
func sqlPath(name string, in input, w parquetWriter, duckdb bool) path {
	object := func(t *testing.T, cs []diffCase) []byte {
		if w == nil {
			return ndjsonObject(t, cs)
		}
		rows := make([]*row, len(cs))
		for i, c := range cs {
			rows[i] = c.row
		}
		return w(t, t.TempDir(), rows, false)
	}
	return path{name: name, input: in, duckdb: duckdb, sql: true, object: object,
		verdict: func(t *testing.T, cs []diffCase) []event.Reason {
			out := make([]event.Reason, len(cs))
			for i, c := range cs {
				h, data := placement(c), object(t, []diffCase{c})
				// The placement is fair: the Go reader, told the object's
				// hour, gives the case its verdict too.
				if r := aggregateOneAt(t, c.name, data, h); r != c.want {
					t.Errorf("%s: filed under %s the Go reader says %q, want %q", c.name, h.Format(time.RFC3339), r, c.want)
				}
				res := buildSQL(t, c.name, h, data)
				out[i] = oneVerdict(t, c.name, res.Records, res.Valid, res.Bad)
			}
			return out
		}}
}

// placement is the partition hour a case is filed under: the hour of its
// event_time when that is a time of the event model, else a fixed hour
// (the case is rejected before its hour is looked at).
func placement(c diffCase) time.Time {
	if r := c.row; r != nil && r.atSet && event.ValidTimeMillis(floorMillis(r.atMicros)) {
		return time.UnixMicro(r.atMicros).UTC().Truncate(time.Hour)
	}
	return base.Truncate(time.Hour)
}

func floorMillis(us int64) int64 {
	ms := us / 1000
	if us%1000 < 0 {
		ms--
	}
	return ms
}

// buildSQL stores data under hour's partition and builds the hour with the
// sql engine.
func buildSQL(t *testing.T, name string, hour time.Time, data []byte) *batch.HourResult {
	t.Helper()
	store, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key := fmt.Sprintf("events/dt=%s/hour=%s/case", hour.Format("2006-01-02"), hour.Format("15"))
	if err := store.Put(context.Background(), key, data); err != nil {
		t.Fatal(err)
	}
	obj := batch.RawObject{ObjectInfo: storage.ObjectInfo{Key: key, Size: int64(len(data))}, Hour: hour}
	res, err := (&batchsql.Engine{Raw: store, TempDir: t.TempDir()}).BuildHour(context.Background(), hour, []batch.RawObject{obj})
	if err != nil {
		t.Fatalf("%s: sql engine: %v", name, err)
	}
	return res
}

func ndjsonObject(_ *testing.T, cs []diffCase) []byte {
	var b []byte
	for _, c := range cs {
		b = append(append(b, enrichedLine(c)...), '\n')
	}
	return b
}

func parquetPath(name string, w parquetWriter, duckdb, textTimes bool) path {
	return path{name: name, input: parquet, duckdb: duckdb, verdict: batchParquet(w, textTimes),
		object: func(t *testing.T, cs []diffCase) []byte {
			rows := make([]*row, len(cs))
			for i, c := range cs {
				rows[i] = c.row
			}
			return w(t, t.TempDir(), rows, textTimes)
		}}
}

func batchNDJSON(t *testing.T, cs []diffCase) []event.Reason {
	out := make([]event.Reason, len(cs))
	for i, c := range cs {
		out[i] = aggregateOne(t, c.name, []byte(enrichedLine(c)+"\n"))
	}
	return out
}

// A parquetWriter writes one row as a raw-events Parquet file; textTimes
// writes event_time and received_time as RFC 3339 strings (which only the
// pqarrow reader reads), else as microsecond timestamps (which the direct
// reader reads).
type parquetWriter func(t *testing.T, dir string, rows []*row, textTimes bool) []byte

func batchParquet(w parquetWriter, textTimes bool) func(*testing.T, []diffCase) []event.Reason {
	return func(t *testing.T, cs []diffCase) []event.Reason {
		dir := t.TempDir()
		out := make([]event.Reason, len(cs))
		for i, c := range cs {
			out[i] = aggregateOne(t, c.name, w(t, dir, []*row{c.row}, textTimes))
		}
		return out
	}
}

// timeText writes an instant as RFC 3339, as an engine casting a timestamp
// to text would; years outside 0000..9999 come out in a form no RFC 3339
// parser reads, as they should.
func timeText(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}

func arrowWriter(t *testing.T, _ string, rows []*row, textTimes bool) []byte {
	t.Helper()
	timeType := arrow.DataType(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"})
	if textTimes {
		timeType = arrow.BinaryTypes.String
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_time", Type: timeType, Nullable: true},
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "session_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "attributes", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
		{Name: "received_time", Type: timeType, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	strField := func(i int, v str) {
		sb := b.Field(i).(*array.StringBuilder)
		if v.set {
			sb.Append(v.v)
		} else {
			sb.AppendNull()
		}
	}
	timeField := func(i int, set bool, us int64) {
		switch fb := b.Field(i).(type) {
		case *array.StringBuilder:
			if set {
				fb.Append(timeText(us))
			} else {
				fb.AppendNull()
			}
		case *array.TimestampBuilder:
			if set {
				fb.Append(arrow.Timestamp(us))
			} else {
				fb.AppendNull()
			}
		}
	}
	for _, r := range rows {
		strField(0, r.id)
		strField(1, r.typ)
		timeField(2, r.atSet, r.atMicros)
		strField(3, r.user)
		strField(4, r.session)
		strField(5, r.source)
		if r.hasValue {
			b.Field(6).(*array.Float64Builder).Append(r.value)
		} else {
			b.Field(6).(*array.Float64Builder).AppendNull()
		}
		mb := b.Field(7).(*array.MapBuilder)
		if r.noAttrs {
			mb.AppendNull()
		} else {
			mb.Append(true)
			kb, vb := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder().(*array.StringBuilder)
			for i := range r.attrs {
				kb.Append(fmt.Sprintf("k%d", i))
				if i < r.nullAttrs {
					vb.AppendNull()
				} else {
					vb.Append("v")
				}
			}
		}
		timeField(8, true, received.UnixMicro())
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var duckDB *sql.DB

func duck(t *testing.T) *sql.DB {
	t.Helper()
	if duckDB == nil {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatalf("opening DuckDB: %v", err)
		}
		if _, err := db.Exec("SET threads = 1; SET TimeZone = 'UTC'"); err != nil {
			t.Fatal(err)
		}
		duckDB = db
	}
	return duckDB
}

func sqlString(v str) string {
	if !v.set {
		return "CAST(NULL AS VARCHAR)"
	}
	return "'" + strings.ReplaceAll(v.v, "'", "''") + "'"
}

func sqlTime(set bool, us int64, text bool) string {
	switch {
	case !set && text:
		return "CAST(NULL AS VARCHAR)"
	case !set:
		return "CAST(NULL AS TIMESTAMP)"
	case text:
		return "'" + timeText(us) + "'"
	}
	return fmt.Sprintf("make_timestamp(%d)", us)
}

func duckWriter(t *testing.T, dir string, rows []*row, textTimes bool) []byte {
	t.Helper()
	var selects []string
	for _, r := range rows {
		selects = append(selects, duckSelect(r, textTimes))
	}
	f := filepath.Join(dir, "rows.parquet")
	q := fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", strings.Join(selects, " UNION ALL "), f)
	if _, err := duck(t).Exec(q); err != nil {
		t.Fatalf("DuckDB writing the rows: %v", err)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// duckSelect is a SELECT of one row with the raw-events columns.
func duckSelect(r *row, textTimes bool) string {
	value := "CAST(NULL AS DOUBLE)"
	if r.hasValue {
		value = "CAST('" + strconv.FormatFloat(r.value, 'g', -1, 64) + "' AS DOUBLE)"
	}
	attrs := "CAST(NULL AS MAP(VARCHAR, VARCHAR))"
	if !r.noAttrs {
		var kv []string
		for i := range r.attrs {
			v := "'v'"
			if i < r.nullAttrs {
				v = "NULL"
			}
			kv = append(kv, fmt.Sprintf("'k%d': %s", i, v))
		}
		attrs = "CAST(MAP {" + strings.Join(kv, ", ") + "} AS MAP(VARCHAR, VARCHAR))"
	}
	return fmt.Sprintf(`SELECT %s AS event_id, %s AS event_type, %s AS event_time, %s AS user_id,
		%s AS session_id, %s AS source, %s AS value, %s AS attributes, %s AS received_time`,
		sqlString(r.id), sqlString(r.typ), sqlTime(r.atSet, r.atMicros, textTimes), sqlString(r.user),
		sqlString(r.session), sqlString(r.source), value, attrs, sqlTime(true, received.UnixMicro(), textTimes))
}
