package views_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/views"
)

func sampleTable(track bool) agg.Table {
	t := agg.Table{}
	h := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	events := []struct {
		id, typ, src, user string
		hour               int
		value              float64
	}{
		{"e1", "click", "web", "u1", 0, 0}, {"e2", "click", "web", "u2", 0, 0},
		{"e3", "purchase", "ios", "u1", 0, 19.5}, {"e4", "click", "web", "u3", 1, 0},
	}
	for _, e := range events {
		k := agg.Key{WindowStart: h.Add(time.Duration(e.hour) * time.Hour), EventType: e.typ, Source: e.src}
		t.Get(k, track).Add(agg.Fingerprint(e.id), agg.UserHash(e.user), e.value)
	}
	return t
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		table glue.Table
		track bool
	}{{glue.BatchView, false}, {glue.SpeedView, true}, {glue.MergedView, false}, {glue.UsersView, false}} {
		t.Run(tc.table.Name, func(t *testing.T) {
			rows, err := views.Rows(sampleTable(tc.track))
			if err != nil {
				t.Fatal(err)
			}
			wm := time.Date(2026, 11, 22, 11, 15, 0, 0, time.UTC)
			for i := range rows {
				if tc.table.Name == glue.MergedView.Name || tc.table.Name == glue.UsersView.Name {
					rows[i].Layer, rows[i].Watermark = views.LayerSpeed, wm
				}
				if tc.table.Name == glue.UsersView.Name {
					rows[i].Events, rows[i].ValueSum = 0, 0 // not columns of users_view
				}
			}
			data, err := views.Encode(tc.table, rows)
			if err != nil {
				t.Fatal(err)
			}
			again, err := views.Encode(tc.table, rows)
			if err != nil || !bytes.Equal(data, again) {
				t.Fatalf("the same rows gave different bytes (err %v)", err)
			}
			got, err := views.Decode(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.track {
				for i := range rows {
					rows[i].Fingerprints, rows[i].Values = nil, nil
				}
			}
			if !reflect.DeepEqual(got, rows) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, rows)
			}
			// The rows decode back into the aggregates they came from.
			back := agg.Table{}
			for i := range got {
				a, err := got[i].Aggregate()
				if err != nil {
					t.Fatal(err)
				}
				back[got[i].Key()] = a
			}
			orig := sampleTable(tc.track)
			for k, a := range orig {
				b := back[k]
				if b != nil && tc.table.Name == glue.UsersView.Name {
					// users_view keeps only the sketch and its estimate.
					b = &agg.Aggregate{Users: b.Users, Events: a.Events, ValueSum: a.ValueSum}
				}
				if b == nil || b.Events != a.Events || b.ValueSum != a.ValueSum || b.UsersEstimate() != a.UsersEstimate() || b.Tracked() != tc.track {
					t.Fatalf("%v: got %+v want %+v", k, b, a)
				}
			}
		})
	}
}

// TestParquetSchemaMatchesGlue checks the written file against the glue
// definition: every column, in order, with the physical/logical types Athena
// expects for the glue type.
func TestParquetSchemaMatchesGlue(t *testing.T) {
	want := map[string]string{
		glue.TString: "String", glue.TBigint: "Int(bitWidth=64, isSigned=true)", glue.TDouble: "None",
		glue.TTimestamp: "Timestamp(isAdjustedToUTC=true, timeUnit=milliseconds, is_from_converted_type=false, force_set_converted_type=false)",
		glue.TBinary:    "None", glue.TBigints: "List", glue.TDoubles: "List",
	}
	for _, tb := range []glue.Table{glue.BatchView, glue.SpeedView, glue.MergedView, glue.UsersView} {
		data, err := views.Encode(tb, nil)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		root := pf.MetaData().Schema.Root()
		if root.NumFields() != len(tb.Columns) {
			t.Fatalf("%s: %d columns in the file, %d in glue", tb.Name, root.NumFields(), len(tb.Columns))
		}
		for i, c := range tb.Columns {
			f := root.Field(i)
			if f.Name() != c.Name {
				t.Errorf("%s column %d: file has %s, glue %s", tb.Name, i, f.Name(), c.Name)
			}
			if got := f.LogicalType().String(); got != want[c.Type] {
				t.Errorf("%s.%s (%s): logical type %s, want %s", tb.Name, c.Name, c.Type, got, want[c.Type])
			}
			if _, isGroup := f.(*schema.GroupNode); isGroup != (c.Type == glue.TBigints || c.Type == glue.TDoubles) {
				t.Errorf("%s.%s: group node %v for %s", tb.Name, c.Name, isGroup, c.Type)
			}
		}
		pf.Close()
	}
}

// TestCompressionByColumn: every view's users_sketch column is stored
// uncompressed (dense sketches barely compress) and every other column
// snappy, in a file that decodes to its rows.
func TestCompressionByColumn(t *testing.T) {
	rows, err := views.Rows(sampleTable(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range []glue.Table{glue.BatchView, glue.SpeedView, glue.MergedView, glue.UsersView} {
		data, err := views.Encode(tb, rows)
		if err != nil {
			t.Fatal(err)
		}
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		rg := pf.MetaData().RowGroup(0)
		for i := range rg.NumColumns() {
			cc, err := rg.ColumnChunk(i)
			if err != nil {
				t.Fatal(err)
			}
			want := compress.Codecs.Snappy
			if cc.PathInSchema().String() == "users_sketch" {
				want = compress.Codecs.Uncompressed
			}
			if cc.Compression() != want {
				t.Errorf("%s.%s: %s, want %s", tb.Name, cc.PathInSchema(), cc.Compression(), want)
			}
		}
		pf.Close()
		got, err := views.Decode(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(rows) || !bytes.Equal(got[0].UsersSketch, rows[0].UsersSketch) {
			t.Errorf("%s: %d rows decoded, want %d with the same sketches", tb.Name, len(got), len(rows))
		}
	}
}

// TestRawWriterFollowsGlue checks the raw-events Parquet columns against
// glue.RawEvents, in order, and that the rows and row groups are written.
func TestRawWriterFollowsGlue(t *testing.T) {
	var buf bytes.Buffer
	w, err := views.NewRawWriter(&buf, arrow.Microsecond, 2)
	if err != nil {
		t.Fatal(err)
	}
	e := event.Event{EventID: "e", EventType: "click", UserID: "u", Source: "web",
		EventTime: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), ReceivedTime: time.Date(2026, 11, 22, 10, 0, 1, 0, time.UTC),
		Attributes: map[string]string{"b": "2", "a": "1"}}
	for range 3 {
		if err := w.Append(&e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if pf.NumRows() != 3 || pf.NumRowGroups() != 2 {
		t.Fatalf("%d rows in %d row groups, want 3 in 2", pf.NumRows(), pf.NumRowGroups())
	}
	root := pf.MetaData().Schema.Root()
	if root.NumFields() != len(glue.RawEvents.Columns) {
		t.Fatalf("%d columns, glue has %d", root.NumFields(), len(glue.RawEvents.Columns))
	}
	for i, c := range glue.RawEvents.Columns {
		if root.Field(i).Name() != c.Name {
			t.Errorf("column %d is %s, glue says %s", i, root.Field(i).Name(), c.Name)
		}
	}
}
