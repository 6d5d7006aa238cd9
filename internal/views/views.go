package views

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/hll"
)

// Layers of the merged view.
const (
	LayerBatch = "batch"
	LayerSpeed = "speed"
)

// Row is one view row. Fingerprints and Values are set in speed views only;
// Layer and Watermark in the merged view only.
type Row struct {
	WindowStart  time.Time
	EventType    string
	Source       string
	Events       int64
	Users        int64
	UsersSketch  []byte
	ValueSum     float64
	Fingerprints []uint64
	Values       []float64
	Layer        string
	Watermark    time.Time
}

// Key is the row's aggregate key.
func (r *Row) Key() agg.Key {
	return agg.Key{WindowStart: r.WindowStart.UTC(), EventType: r.EventType, Source: r.Source}
}

// FromAggregate makes the row of k. A tracked aggregate's fingerprints go
// into the row (speed views keep them; other tables ignore them).
func FromAggregate(k agg.Key, a *agg.Aggregate) (Row, error) {
	sketch, err := a.Users.MarshalBinary()
	if err != nil {
		return Row{}, fmt.Errorf("encoding the user sketch of %s/%s/%s: %w", k.WindowStart.Format(time.RFC3339), k.EventType, k.Source, err)
	}
	r := Row{WindowStart: k.WindowStart.UTC(), EventType: k.EventType, Source: k.Source,
		Events: a.Events, Users: a.UsersEstimate(), UsersSketch: sketch, ValueSum: a.ValueSum}
	if a.Tracked() {
		r.Fingerprints, r.Values = a.Fingerprints()
	}
	return r, nil
}

// Aggregate decodes the row back into a mergeable aggregate. A row with
// fingerprints gives a tracked aggregate.
func (r *Row) Aggregate() (*agg.Aggregate, error) {
	sk, err := r.Sketch()
	if err != nil {
		return nil, err
	}
	a := &agg.Aggregate{Events: r.Events, ValueSum: r.ValueSum, Users: sk}
	if r.Fingerprints != nil {
		if len(r.Values) != len(r.Fingerprints) {
			return nil, fmt.Errorf("row %s/%s/%s has %d fingerprints and %d values", r.WindowStart.Format(time.RFC3339), r.EventType, r.Source, len(r.Fingerprints), len(r.Values))
		}
		a.Seen = make(map[uint64]float64, len(r.Fingerprints))
		for i, fp := range r.Fingerprints {
			a.Seen[fp] = r.Values[i]
		}
	}
	return a, nil
}

// Sketch decodes the row's users_sketch. Bytes in the old axiomhq format
// give an error that wraps hll.ErrOldFormat and says how to rebuild.
func (r *Row) Sketch() (*hll.Sketch, error) {
	sk := &hll.Sketch{}
	if err := r.SketchInto(sk); err != nil {
		return nil, err
	}
	return sk, nil
}

// SketchInto decodes the row's users_sketch into sk, reusing its storage
// (hll.Sketch.UnmarshalBinary), with Sketch's errors.
func (r *Row) SketchInto(sk *hll.Sketch) error {
	if err := sk.UnmarshalBinary(r.UsersSketch); err != nil {
		return fmt.Errorf("the user sketch of %s/%s/%s: %w", r.WindowStart.Format(time.RFC3339), r.EventType, r.Source, err)
	}
	return nil
}

// Rows turns a table of aggregates into rows in key order.
func Rows(t agg.Table) ([]Row, error) {
	rows := make([]Row, 0, len(t))
	for _, k := range t.Keys() {
		r, err := FromAggregate(k, t[k])
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// ArrowType maps a glue column type to the Arrow type the Parquet files use.
func ArrowType(glueType string) (arrow.DataType, error) {
	switch glueType {
	case glue.TString:
		return arrow.BinaryTypes.String, nil
	case glue.TBigint:
		return arrow.PrimitiveTypes.Int64, nil
	case glue.TDouble:
		return arrow.PrimitiveTypes.Float64, nil
	case glue.TTimestamp:
		return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, nil
	case glue.TBinary:
		return arrow.BinaryTypes.Binary, nil
	case glue.TBigints:
		return arrow.ListOf(arrow.PrimitiveTypes.Int64), nil
	case glue.TDoubles:
		return arrow.ListOf(arrow.PrimitiveTypes.Float64), nil
	case glue.TStringMap:
		return arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), nil
	}
	return nil, fmt.Errorf("no Arrow type for glue type %q", glueType)
}

// Schema is the Arrow schema of t's data columns (partition keys live in
// the path, not the file).
func Schema(t glue.Table) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, len(t.Columns))
	for _, c := range t.Columns {
		dt, err := ArrowType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: dt, Nullable: true})
	}
	return arrow.NewSchema(fields, nil), nil
}

func writerProps() *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithCreatedBy("lambdastack"),
		// Fingerprints are distinct random numbers and their values
		// mostly distinct: a dictionary only costs time (a third of a
		// speed object's encoding) and bytes.
		parquet.WithDictionaryFor("event_fingerprints.list.element", false),
		parquet.WithDictionaryFor("event_values.list.element", false),
		// Sketches are distinct blobs (2 KiB when dense): hashing them
		// for a dictionary is wasted work.
		parquet.WithDictionaryFor("users_sketch", false),
		// Nor for compression: snappy shrinks dense sketches (4-bit
		// deltas) by ~18% and was half the CPU of writing a day of
		// merged hour rows (BenchmarkMergedDay/Encode: 11 → 4.4–5.7
		// cpu-ms); the column is stored uncompressed, the rest snappy.
		parquet.WithCompressionFor("users_sketch", compress.Codecs.Uncompressed),
	)
}

// Encode writes rows as one Parquet file of table t (BatchView, SpeedView
// or MergedView). The same rows give the same bytes.
func Encode(t glue.Table, rows []Row) ([]byte, error) {
	schema, err := Schema(t)
	if err != nil {
		return nil, err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	// The builders and the output are sized once (the sketches are most of
	// the bytes) instead of grown by doubling and copying.
	sketchBytes := 0
	for i := range rows {
		sketchBytes += len(rows[i].UsersSketch)
	}
	b.Reserve(len(rows))
	for i, f := range schema.Fields() {
		if f.Name == "users_sketch" {
			b.Field(i).(*array.BinaryBuilder).ReserveData(sketchBytes)
		}
	}
	for i, f := range schema.Fields() {
		if err := appendColumn(b.Field(i), f.Name, rows); err != nil {
			return nil, fmt.Errorf("encoding %s column %s: %w", t.Name, f.Name, err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	buf.Grow(sketchBytes + 64*len(rows) + 4096)
	w, err := pqarrow.NewFileWriter(schema, &buf, writerProps(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, fmt.Errorf("opening a Parquet writer for %s: %w", t.Name, err)
	}
	if err := w.Write(rec); err != nil {
		w.Close()
		return nil, fmt.Errorf("writing %s rows: %w", t.Name, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("finishing the %s Parquet file: %w", t.Name, err)
	}
	return buf.Bytes(), nil
}

func appendColumn(fb array.Builder, name string, rows []Row) error {
	switch name {
	case "window_start", "watermark":
		b := fb.(*array.TimestampBuilder)
		for i := range rows {
			t := rows[i].WindowStart
			if name == "watermark" {
				t = rows[i].Watermark
			}
			b.Append(arrow.Timestamp(t.UnixMilli()))
		}
	case "event_type", "source", "layer":
		b := fb.(*array.StringBuilder)
		for i := range rows {
			switch name {
			case "event_type":
				b.Append(rows[i].EventType)
			case "source":
				b.Append(rows[i].Source)
			default:
				b.Append(rows[i].Layer)
			}
		}
	case "events", "users":
		b := fb.(*array.Int64Builder)
		for i := range rows {
			if name == "events" {
				b.Append(rows[i].Events)
			} else {
				b.Append(rows[i].Users)
			}
		}
	case "value_sum":
		b := fb.(*array.Float64Builder)
		for i := range rows {
			b.Append(rows[i].ValueSum)
		}
	case "users_sketch":
		b := fb.(*array.BinaryBuilder)
		for i := range rows {
			b.Append(rows[i].UsersSketch)
		}
	case "event_fingerprints":
		b := fb.(*array.ListBuilder)
		vb := b.ValueBuilder().(*array.Int64Builder)
		for i := range rows {
			b.Append(true)
			for _, fp := range rows[i].Fingerprints {
				vb.Append(int64(fp))
			}
		}
	case "event_values":
		b := fb.(*array.ListBuilder)
		vb := b.ValueBuilder().(*array.Float64Builder)
		for i := range rows {
			b.Append(true)
			vb.AppendValues(rows[i].Values, nil)
		}
	default:
		return fmt.Errorf("no row field for column %q", name)
	}
	return nil
}

// Decode reads every row of a view Parquet file. Columns the file lacks are
// left zero; timestamps in any unit are read.
func Decode(ctx context.Context, data []byte) ([]Row, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("opening view Parquet: %w", err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("reading view Parquet schema: %w", err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading view Parquet: %w", err)
	}
	defer tbl.Release()
	rows := make([]Row, tbl.NumRows())
	for i := 0; i < int(tbl.NumCols()); i++ {
		col := tbl.Column(i)
		off := 0
		for _, chunk := range col.Data().Chunks() {
			if err := readColumn(col.Name(), chunk, rows[off:off+chunk.Len()]); err != nil {
				return nil, fmt.Errorf("reading view column %s: %w", col.Name(), err)
			}
			off += chunk.Len()
		}
	}
	return rows, nil
}

func timestampAt(a *array.Timestamp, i int) time.Time {
	unit := a.DataType().(*arrow.TimestampType).Unit
	return a.Value(i).ToTime(unit).UTC()
}

func readColumn(name string, chunk arrow.Array, rows []Row) error {
	wrong := func() error { return fmt.Errorf("unexpected type %s", chunk.DataType()) }
	switch name {
	case "window_start", "watermark":
		a, ok := chunk.(*array.Timestamp)
		if !ok {
			return wrong()
		}
		for i := range rows {
			if a.IsNull(i) {
				continue
			}
			if name == "watermark" {
				rows[i].Watermark = timestampAt(a, i)
			} else {
				rows[i].WindowStart = timestampAt(a, i)
			}
		}
	case "event_type", "source", "layer":
		a, ok := chunk.(*array.String)
		if !ok {
			return wrong()
		}
		for i := range rows {
			v := a.Value(i)
			switch name {
			case "event_type":
				rows[i].EventType = v
			case "source":
				rows[i].Source = v
			default:
				rows[i].Layer = v
			}
		}
	case "events", "users":
		a, ok := chunk.(*array.Int64)
		if !ok {
			return wrong()
		}
		for i := range rows {
			if name == "events" {
				rows[i].Events = a.Value(i)
			} else {
				rows[i].Users = a.Value(i)
			}
		}
	case "value_sum":
		a, ok := chunk.(*array.Float64)
		if !ok {
			return wrong()
		}
		for i := range rows {
			rows[i].ValueSum = a.Value(i)
		}
	case "users_sketch":
		a, ok := chunk.(*array.Binary)
		if !ok {
			return wrong()
		}
		for i := range rows {
			rows[i].UsersSketch = bytes.Clone(a.Value(i))
		}
	case "event_fingerprints", "event_values":
		a, ok := chunk.(*array.List)
		if !ok {
			return wrong()
		}
		offs := a.Offsets()
		switch vals := a.ListValues().(type) {
		case *array.Int64:
			if name != "event_fingerprints" {
				return wrong()
			}
			for i := range rows {
				fps := make([]uint64, 0, offs[i+1]-offs[i])
				for j := offs[i]; j < offs[i+1]; j++ {
					fps = append(fps, uint64(vals.Value(int(j))))
				}
				rows[i].Fingerprints = fps
			}
		case *array.Float64:
			if name != "event_values" {
				return wrong()
			}
			for i := range rows {
				rows[i].Values = append([]float64{}, vals.Float64Values()[offs[i]:offs[i+1]]...)
			}
		default:
			return wrong()
		}
	}
	return nil
}
