package views

import (
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/event"
)

// RawWriter writes enriched events as raw-events Parquet: the columns of
// glue.RawEvents (what Firehose format conversion writes), snappy, with
// timestamps in a chosen unit. The pipeline itself lands NDJSON; tests and
// benchmarks use this to give the batch reader Parquet input.
type RawWriter struct {
	w        *pqarrow.FileWriter
	b        *array.RecordBuilder
	unit     arrow.TimeUnit
	rowGroup int
	rows     int
	col      map[string]int
}

// NewRawWriter starts a raw-events Parquet file on w with row groups of
// rowGroup rows and event_time/received_time in unit.
func NewRawWriter(w io.Writer, unit arrow.TimeUnit, rowGroup int) (*RawWriter, error) {
	fields := make([]arrow.Field, 0, len(glue.RawEvents.Columns))
	for _, c := range glue.RawEvents.Columns {
		dt, err := ArrowType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("raw events column %s: %w", c.Name, err)
		}
		if c.Type == glue.TTimestamp {
			dt = &arrow.TimestampType{Unit: unit, TimeZone: "UTC"}
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: dt, Nullable: true})
	}
	schema := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(int64(rowGroup)), parquet.WithCreatedBy("lambdastack"))
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, fmt.Errorf("opening a raw events Parquet writer: %w", err)
	}
	rw := &RawWriter{w: fw, b: array.NewRecordBuilder(memory.DefaultAllocator, schema), unit: unit,
		rowGroup: rowGroup, col: map[string]int{}}
	for i, f := range fields {
		rw.col[f.Name] = i
	}
	return rw, nil
}

// Append adds one event; a full row group is written out.
func (rw *RawWriter) Append(e *event.Event) error {
	str := func(name, v string, null bool) {
		sb := rw.b.Field(rw.col[name]).(*array.StringBuilder)
		if null {
			sb.AppendNull()
		} else {
			sb.Append(v)
		}
	}
	ts := func(name string, v arrow.Timestamp) {
		rw.b.Field(rw.col[name]).(*array.TimestampBuilder).Append(v)
	}
	str("event_id", e.EventID, false)
	str("event_type", e.EventType, false)
	str("user_id", e.UserID, false)
	str("session_id", e.SessionID, e.SessionID == "")
	str("source", e.Source, false)
	et, err := arrow.TimestampFromTime(e.EventTime, rw.unit)
	if err != nil {
		return fmt.Errorf("event %s: event_time: %w", e.EventID, err)
	}
	rt, err := arrow.TimestampFromTime(e.ReceivedTime, rw.unit)
	if err != nil {
		return fmt.Errorf("event %s: received_time: %w", e.EventID, err)
	}
	ts("event_time", et)
	ts("received_time", rt)
	vb := rw.b.Field(rw.col["value"]).(*array.Float64Builder)
	if e.HasValue {
		vb.Append(e.Value)
	} else {
		vb.AppendNull()
	}
	mb := rw.b.Field(rw.col["attributes"]).(*array.MapBuilder)
	if e.Attributes == nil {
		mb.AppendNull()
	} else {
		mb.Append(true)
		for _, k := range slices.Sorted(maps.Keys(e.Attributes)) {
			mb.KeyBuilder().(*array.StringBuilder).Append(k)
			mb.ItemBuilder().(*array.StringBuilder).Append(e.Attributes[k])
		}
	}
	if rw.rows++; rw.rows%rw.rowGroup == 0 {
		return rw.flush()
	}
	return nil
}

func (rw *RawWriter) flush() error {
	rec := rw.b.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	if err := rw.w.Write(rec); err != nil {
		return fmt.Errorf("writing raw events Parquet: %w", err)
	}
	return nil
}

// Close writes the last row group and the footer.
func (rw *RawWriter) Close() error {
	err := rw.flush()
	rw.b.Release()
	if cerr := rw.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finishing raw events Parquet: %w", cerr)
	}
	return err
}
