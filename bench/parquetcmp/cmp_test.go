package parquetcmp

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xitongsys/parquet-go/parquet"
	"github.com/xitongsys/parquet-go/writer"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/views"
)

// speedRows are the rows of one speed object as the handler makes it from
// 5 000 events of one hour: 4 event types x 3 sources, 2 000 users.
func speedRows(tb testing.TB) []views.Row {
	tb.Helper()
	hour := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	types := []string{"page_view", "click", "add_to_cart", "purchase"}
	sources := []string{"web", "ios", "android"}
	tbl := agg.Table{}
	for i := range 5000 {
		k := agg.Key{WindowStart: hour, EventType: types[i%4], Source: sources[i%3]}
		tbl.Get(k, true).Add(agg.Fingerprint(fmt.Sprint("event-", i)), agg.UserHash(fmt.Sprint("user-", i%2000)), float64(i%100)+0.25)
	}
	for _, a := range tbl {
		a.Normalize()
	}
	rows, err := views.Rows(tbl)
	if err != nil {
		tb.Fatal(err)
	}
	return rows
}

// xRow is a speed-view row for xitongsys/parquet-go, with the same columns
// and types as glue.SpeedView.
type xRow struct {
	WindowStart  int64     `parquet:"name=window_start, type=INT64, logicaltype=TIMESTAMP, logicaltype.isadjustedtoutc=true, logicaltype.unit=MILLIS"`
	EventType    string    `parquet:"name=event_type, type=BYTE_ARRAY, convertedtype=UTF8"`
	Source       string    `parquet:"name=source, type=BYTE_ARRAY, convertedtype=UTF8"`
	Events       int64     `parquet:"name=events, type=INT64"`
	Users        int64     `parquet:"name=users, type=INT64"`
	UsersSketch  string    `parquet:"name=users_sketch, type=BYTE_ARRAY"`
	ValueSum     float64   `parquet:"name=value_sum, type=DOUBLE"`
	Fingerprints []int64   `parquet:"name=event_fingerprints, type=LIST, valuetype=INT64"`
	Values       []float64 `parquet:"name=event_values, type=LIST, valuetype=DOUBLE"`
}

func encodeX(rows []views.Row) ([]byte, error) {
	var buf bytes.Buffer
	w, err := writer.NewParquetWriterFromWriter(&buf, new(xRow), 1)
	if err != nil {
		return nil, fmt.Errorf("opening a parquet-go writer: %w", err)
	}
	w.CompressionType = parquet.CompressionCodec_SNAPPY
	for i := range rows {
		r := &rows[i]
		fps := make([]int64, len(r.Fingerprints))
		for j, fp := range r.Fingerprints {
			fps[j] = int64(fp)
		}
		if err := w.Write(xRow{WindowStart: r.WindowStart.UnixMilli(), EventType: r.EventType, Source: r.Source,
			Events: r.Events, Users: r.Users, UsersSketch: string(r.UsersSketch), ValueSum: r.ValueSum,
			Fingerprints: fps, Values: r.Values}); err != nil {
			return nil, fmt.Errorf("writing a row: %w", err)
		}
	}
	if err := w.WriteStop(); err != nil {
		return nil, fmt.Errorf("finishing the file: %w", err)
	}
	return buf.Bytes(), nil
}

// Both writers' files read back (with arrow) to the same rows.
func TestBothWritersGiveTheSameRows(t *testing.T) {
	rows := speedRows(t)
	a, err := views.Encode(glue.SpeedView, rows)
	if err != nil {
		t.Fatal(err)
	}
	x, err := encodeX(rows)
	if err != nil {
		t.Fatal(err)
	}
	ra, err := views.Decode(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := views.Decode(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ra) != fmt.Sprint(rx) || len(ra) != len(rows) {
		t.Fatalf("rows differ:\narrow     %.300v\nparquet-go %.300v", ra, rx)
	}
	t.Logf("%d rows: pqarrow %d bytes, parquet-go %d bytes", len(rows), len(a), len(x))
}

func BenchmarkEncodeSpeedObject(b *testing.B) {
	rows := speedRows(b)
	for _, w := range []struct {
		name   string
		encode func([]views.Row) ([]byte, error)
	}{
		{"pqarrow", func(r []views.Row) ([]byte, error) { return views.Encode(glue.SpeedView, r) }},
		{"parquet-go", encodeX},
	} {
		b.Run(w.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				data, err := w.encode(rows)
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes/object")
		})
	}
}
