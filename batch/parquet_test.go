package batch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/views"
)

// oddParquet writes events with event_time as an RFC 3339 string (which
// the direct reader does not handle, so pqarrow's path reads it), plus one
// row with a null event_id and one with a null user_id.
func oddParquet(t *testing.T, evs []event.Event) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_time", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, e := range evs {
		b.Field(0).(*array.StringBuilder).Append(e.EventID)
		b.Field(1).(*array.StringBuilder).Append(e.EventType)
		b.Field(2).(*array.StringBuilder).Append(e.UserID)
		b.Field(3).(*array.StringBuilder).Append(e.EventTime.Format(time.RFC3339Nano))
		b.Field(4).(*array.Float64Builder).Append(e.Value)
	}
	b.Field(0).(*array.StringBuilder).AppendNull()
	b.Field(1).(*array.StringBuilder).Append("click")
	b.Field(2).(*array.StringBuilder).Append("u")
	b.Field(3).(*array.StringBuilder).Append(evs[0].EventTime.Format(time.RFC3339))
	b.Field(4).(*array.Float64Builder).AppendNull()
	b.Field(0).(*array.StringBuilder).Append("no-user")
	b.Field(1).(*array.StringBuilder).Append("click")
	b.Field(2).(*array.StringBuilder).AppendNull()
	b.Field(3).(*array.StringBuilder).Append(evs[0].EventTime.Format(time.RFC3339))
	b.Field(4).(*array.Float64Builder).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func source(name string, data []byte) batch.Source {
	return batch.Source{Name: name, Size: int64(len(data)), Fetch: func(context.Context) ([]byte, error) { return data, nil }}
}

// The readers agree: the same events as Parquet read directly (ms and µs
// timestamps), Parquet read through pqarrow (string times, no source
// column), gzip NDJSON; null required fields are counted, never fatal.
func TestReadersAgree(t *testing.T) {
	ctx := context.Background()
	d := genEvents(11, 2000, dataStart, dataEnd, 0.1)
	noSource := make([]event.Event, len(d.events))
	copy(noSource, d.events)
	for i := range noSource {
		noSource[i].Source = event.DefaultSource
	}
	var nd []byte
	for _, e := range d.events {
		nd = append(e.AppendJSON(nd), '\n')
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		evs     []event.Event
		wantBad int64
	}{
		{"parquet ms", rawParquet(t, d.events, arrow.Millisecond), d.events, 0},
		{"parquet us", rawParquet(t, d.events, arrow.Microsecond), d.events, 0},
		{"parquet ns", rawParquet(t, d.events, arrow.Nanosecond), d.events, 0},
		{"parquet through pqarrow", oddParquet(t, d.events), noSource, 2},
		{"ndjson", nd, d.events, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := batch.Aggregate(ctx, []batch.Source{source(tc.name, tc.data)}, batch.Options{Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			var bad int64
			for _, n := range res.Bad {
				bad += n
			}
			if bad != tc.wantBad || res.Bad[string(event.ReasonMissingField)] != tc.wantBad {
				t.Errorf("bad %v, want %d missing_field", res.Bad, tc.wantBad)
			}
			rows, err := views.Rows(res.Hours)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, tc.name, rows, expected(tc.evs, agg.Hour, nil))
		})
	}
}

// An object that is neither NDJSON, gzip nor Parquet is counted, not fatal;
// a file without a required column counts every row as missing_field.
func TestUnreadableObjects(t *testing.T) {
	ctx := context.Background()
	d := genEvents(12, 50, dataStart, dataEnd, 0)
	good := rawParquet(t, d.events, arrow.Millisecond)
	res, err := batch.Aggregate(ctx, []batch.Source{
		source("corrupt.parquet", append([]byte("PAR1"), 1, 2, 3)),
		source("truncated.gz", []byte{0x1f, 0x8b, 8, 0}),
		source("good.parquet", good),
	}, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bad[batch.ReasonUnreadable] != 2 || res.Valid != 50 {
		t.Errorf("bad %v valid %d, want 2 unreadable objects and 50 valid events", res.Bad, res.Valid)
	}
}

func opener(data []byte) func(context.Context) (io.ReadCloser, error) {
	return func(context.Context) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

// Streamed sources (Open) give the same result as fetched ones, for NDJSON
// larger than one piece, gzip NDJSON and Parquet; a gzip stream cut short
// is counted as unreadable.
func TestStreamedSources(t *testing.T) {
	ctx := context.Background()
	d := genEvents(14, 20000, dataStart, dataEnd, 0.05)
	var nd []byte
	for _, e := range d.events {
		nd = append(e.AppendJSON(nd), '\n')
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(nd)
	zw.Close()
	pq := rawParquet(t, d.events, arrow.Millisecond)
	want := expected(d.events, agg.Hour, nil)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"ndjson", nd}, {"gzip", gz.Bytes()}, {"parquet", pq}} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := batch.Aggregate(ctx, []batch.Source{{Name: tc.name, Open: opener(tc.data)}}, batch.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Bad) != 0 || res.Bytes != int64(len(tc.data)) {
				t.Errorf("bad %v, bytes %d of %d", res.Bad, res.Bytes, len(tc.data))
			}
			rows, err := views.Rows(res.Hours)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, tc.name, rows, want)
		})
	}
	cut := gz.Bytes()[:gz.Len()/2]
	res, err := batch.Aggregate(ctx, []batch.Source{{Name: "cut.gz", Open: opener(cut)}}, batch.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Bad[batch.ReasonUnreadable] != 1 {
		t.Errorf("a gzip stream cut short: bad %v, want unreadable 1", res.Bad)
	}
}
