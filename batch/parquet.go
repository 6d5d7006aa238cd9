package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
)

// The raw columns read: those the batch view needs, and those the event
// rules check (session_id, received_time, and attributes, whose leaves are
// found by path).
var rawColumns = []string{"event_id", "event_type", "event_time", "user_id", "session_id", "source", "value", "received_time"}

// dictColumns are read as Arrow dictionaries where the file is dictionary
// encoded, so each distinct string is interned or hashed once per batch.
var dictColumns = map[string]bool{"event_type": true, "source": true, "user_id": true}

// parquetUnits makes one unit per row group.
func parquetUnits(data []byte, s Source) ([]unit, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("opening Parquet: %w", err)
	}
	md := pf.MetaData()
	if err := pf.Close(); err != nil {
		return nil, fmt.Errorf("closing Parquet: %w", err)
	}
	layout, direct := planDirect(md)
	units := make([]unit, len(md.RowGroups))
	for rg := range units {
		units[rg] = func(ctx context.Context, st *runState, b *block) error {
			if !direct {
				return readRowGroup(ctx, st, data, md, rg, s, b)
			}
			// Buffered streams read column chunks through one reused
			// buffer instead of a new copy of each chunk.
			props := parquet.NewReaderProperties(memory.DefaultAllocator)
			props.BufferedStreamEnabled = true
			props.BufferSize = 1 << 20
			pf, err := file.NewParquetReader(bytes.NewReader(data), file.WithMetadata(md), file.WithReadProps(props))
			if err != nil {
				return fmt.Errorf("opening Parquet %s: %w", s.Name, err)
			}
			defer pf.Close()
			if err := readRowGroupDirect(st, pf, layout, rg, s, b); err != nil {
				return fmt.Errorf("reading Parquet %s row group %d: %w", s.Name, rg, err)
			}
			return nil
		}
	}
	return units, nil
}

// strColumn reads a string column that Arrow gives as String, Binary, or a
// dictionary of either.
type strColumn struct {
	arr   arrow.Array
	dict  *array.Dictionary
	plain arrow.Array
}

func newStrColumn(a arrow.Array) (strColumn, bool) {
	c := strColumn{arr: a}
	if d, ok := a.(*array.Dictionary); ok {
		c.dict = d
		switch d.Dictionary().(type) {
		case *array.String, *array.Binary:
			return c, true
		}
		return c, false
	}
	switch a.(type) {
	case *array.String, *array.Binary:
		c.plain = a
		return c, true
	}
	return c, false
}

func strAt(a arrow.Array, i int) []byte {
	switch v := a.(type) {
	case *array.String:
		s := v.Value(i)
		return unsafe.Slice(unsafe.StringData(s), len(s))
	case *array.Binary:
		return v.Value(i)
	}
	return nil
}

// dictLen is the number of dictionary entries, or 0 for a plain column.
func (c strColumn) dictLen() int {
	if c.dict == nil {
		return 0
	}
	return c.dict.Dictionary().Len()
}

// dictValue is dictionary entry j.
func (c strColumn) dictValue(j int) []byte { return strAt(c.dict.Dictionary(), j) }

// index is row i's dictionary index.
func (c strColumn) index(i int) int { return c.dict.GetValueIndex(i) }

// column is row i as the event model reads it.
func (c strColumn) column(i int) event.Column {
	if c.arr == nil || c.arr.IsNull(i) {
		return event.Column{}
	}
	return event.Column{Value: c.value(i), Valid: true}
}

// value is row i's bytes (nil when null).
func (c strColumn) value(i int) []byte {
	if c.arr.IsNull(i) {
		return nil
	}
	if c.dict != nil {
		return c.dictValue(c.index(i))
	}
	return strAt(c.plain, i)
}

func readRowGroup(ctx context.Context, st *runState, data []byte, md *metadata.FileMetaData, rg int, s Source, b *block) error {
	pf, err := file.NewParquetReader(bytes.NewReader(data), file.WithMetadata(md))
	if err != nil {
		return fmt.Errorf("opening Parquet %s: %w", s.Name, err)
	}
	defer pf.Close()
	props := pqarrow.ArrowReadProperties{BatchSize: 64 << 10}
	schema := md.Schema
	var cols []int
	for _, name := range rawColumns {
		idx := schema.ColumnIndexByName(name)
		if idx < 0 {
			continue // an absent column reads as nulls
		}
		cols = append(cols, idx)
		if dictColumns[name] && fullyDict(md, rg, idx) {
			props.SetReadDict(idx, true)
		}
	}
	for i := 0; i < schema.NumColumns(); i++ {
		if p := schema.Column(i).ColumnPath(); len(p) > 1 && p[0] == "attributes" {
			cols = append(cols, i)
		}
	}
	nrows := md.RowGroup(rg).NumRows()
	b.grow(int(nrows))
	b.idRow = slices.Grow(b.idRow, int(nrows))
	fr, err := pqarrow.NewFileReader(pf, props, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("reading Parquet schema of %s: %w", s.Name, err)
	}
	rr, err := fr.GetRecordReader(ctx, cols, []int{rg})
	if err != nil {
		return fmt.Errorf("reading Parquet %s row group %d: %w", s.Name, rg, err)
	}
	defer rr.Release()
	for rr.Next() {
		rec := rr.RecordBatch()
		if err := addRecord(st, rec, s, b); err != nil {
			return fmt.Errorf("reading Parquet %s row group %d: %w", s.Name, rg, err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading Parquet %s row group %d: %w", s.Name, rg, err)
	}
	return nil
}

// fullyDict reports whether every data page of a column chunk is
// dictionary encoded: then reading it as an Arrow dictionary costs nothing
// and each distinct value is handled once. A chunk that fell back to plain
// pages would make Arrow build the dictionary by hashing every value, which
// is slower than reading the strings.
func fullyDict(md *metadata.FileMetaData, rg, col int) bool {
	cc, err := md.RowGroup(rg).ColumnChunk(col)
	if err != nil || !cc.HasDictionaryPage() {
		return false
	}
	const dictionaryPage = 2 // parquet.thrift PageType.DICTIONARY_PAGE
	for _, st := range cc.EncodingStats() {
		if int(st.PageType) == dictionaryPage {
			continue
		}
		if st.Encoding != parquet.Encodings.RLEDict && st.Encoding != parquet.Encodings.PlainDict {
			return false
		}
	}
	return true
}

// timeColumn reads event_time as Unix milliseconds from a timestamp (any
// unit), an int64 (epoch milliseconds) or an RFC 3339 string column.
type timeColumn struct {
	arr   arrow.Array
	ts    []arrow.Timestamp
	div   int64 // ts units per millisecond (1 for ms); 0 when mul is used
	mul   int64 // milliseconds per ts unit (1000 for seconds)
	ints  []int64
	strs  strColumn
	isStr bool
}

func newTimeColumn(a arrow.Array) (timeColumn, bool) {
	c := timeColumn{arr: a}
	switch v := a.(type) {
	case *array.Timestamp:
		c.ts = v.TimestampValues()
		switch v.DataType().(*arrow.TimestampType).Unit {
		case arrow.Second:
			c.mul = 1000
		case arrow.Millisecond:
			c.div = 1
		case arrow.Microsecond:
			c.div = 1000
		case arrow.Nanosecond:
			c.div = 1000000
		}
		return c, true
	case *array.Int64:
		c.ints = v.Int64Values()
		return c, true
	}
	if sc, ok := newStrColumn(a); ok {
		c.strs, c.isStr = sc, true
		return c, true
	}
	return c, false
}

// at returns row i's time as the event model reads it.
func (c timeColumn) at(i int) event.TimeColumn {
	if c.arr == nil || c.arr.IsNull(i) {
		return event.TimeColumn{}
	}
	t := event.TimeColumn{Valid: true}
	switch {
	case c.ts != nil:
		v := int64(c.ts[i])
		switch {
		case c.mul != 0:
			if v > event.MaxTimeMillis/c.mul || v < event.MinTimeMillis/c.mul {
				t.Bad = true
			}
			t.Millis = v * c.mul
		default:
			t.Millis = floorDiv(v, c.div)
		}
	case c.ints != nil:
		t.Millis = c.ints[i]
	case c.isStr:
		tm, ok := event.ParseTime(string(c.strs.value(i)))
		t.Millis, t.Bad = tm.UnixMilli(), !ok
	}
	return t
}

func addRecord(st *runState, rec arrow.RecordBatch, s Source, b *block) error {
	n := int(rec.NumRows())
	b.rows += int64(n)
	col := func(name string) arrow.Array {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil
		}
		return rec.Column(idx[0])
	}
	// strCol reads a string column; an absent one is all nulls.
	strCol := func(name string) (strColumn, bool) {
		a := col(name)
		if a == nil {
			return strColumn{}, true
		}
		return newStrColumn(a)
	}
	timeCol := func(name string) (timeColumn, bool) {
		a := col(name)
		if a == nil {
			return timeColumn{}, true
		}
		return newTimeColumn(a)
	}
	ids, ok1 := strCol("event_id")
	types, ok2 := strCol("event_type")
	users, ok3 := strCol("user_id")
	times, ok4 := timeCol("event_time")
	sessions, ok5 := strCol("session_id")
	srcs, ok6 := strCol("source")
	recv, ok7 := timeCol("received_time")
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		// A column of a type no event field can have: every row is bad.
		if b.bad == nil {
			b.bad = map[string]int64{}
		}
		b.bad[string(event.ReasonBadType)] += int64(n)
		return nil
	}
	var vals arrow.Array
	var valF []float64
	if a := col("value"); a != nil {
		vals = a
		switch v := a.(type) {
		case *array.Float64:
			valF = v.Float64Values()
		case *array.Float32, *array.Int64, *array.Int32:
			// Convert once; rare (engines that narrowed the column).
			valF = make([]float64, n)
			for i := 0; i < n; i++ {
				switch w := v.(type) {
				case *array.Float32:
					valF[i] = float64(w.Value(i))
				case *array.Int64:
					valF[i] = float64(w.Value(i))
				case *array.Int32:
					valF[i] = float64(w.Value(i))
				}
			}
		default:
			return fmt.Errorf("column value has type %s, want double", a.DataType())
		}
	}
	attrs, _ := col("attributes").(*array.Map)
	var attrItems arrow.Array
	if attrs != nil {
		attrItems = attrs.Items()
	}

	if ids.arr != nil {
		ids.arr.Retain() // the block reads event_ids from it later
	} // else no row is kept, so nothing reads the ids
	b.idCols = append(b.idCols, ids)
	b.idColStart = append(b.idColStart, len(b.fp))

	// Per-dictionary lookups: interned ids and checks once per entry.
	const invalid = ^uint32(0)
	typeIDs := make([]uint32, types.dictLen())
	for j := range typeIDs {
		v := types.dictValue(j)
		if event.ValidEventType(v) {
			typeIDs[j] = st.types.id(string(v))
		} else {
			typeIDs[j] = invalid
		}
	}
	userHashes := make([]uint64, users.dictLen())
	for j := range userHashes {
		userHashes[j] = agg.UserHash(string(users.dictValue(j)))
	}
	srcIDs := make([]uint32, srcs.dictLen())
	for j := range srcIDs {
		srcIDs[j] = sourceID(st, srcs.dictValue(j))
	}
	unknown := st.sources.id(event.DefaultSource)
	localTypes := &localInterner{shared: st.types, cache: map[string]uint32{}}
	localSources := &localInterner{shared: st.sources, cache: map[string]uint32{}}
	var want int32
	check := !s.Hour.IsZero()
	if check {
		want = hourWindow(s.Hour.UnixMilli())
	}

	for i := 0; i < n; i++ {
		c := event.Columns{
			EventID:      ids.column(i),
			EventType:    types.column(i),
			UserID:       users.column(i),
			SessionID:    sessions.column(i),
			Source:       srcs.column(i),
			EventTime:    times.at(i),
			ReceivedTime: recv.at(i),
		}
		if valF != nil && !vals.IsNull(i) {
			c.Value, c.HasValue = valF[i], true
		}
		if attrs != nil && !attrs.IsNull(i) {
			from, to := attrs.ValueOffsets(i)
			c.HasAttributes, c.Attributes = true, int(to-from)
			for k := from; k < to; k++ {
				if attrItems.IsNull(int(k)) {
					c.NullValues++
				}
			}
		}
		var typ uint32 = invalid
		if c.EventType.Valid {
			if types.dict != nil {
				typ = typeIDs[types.index(i)]
			} else if event.ValidEventType(c.EventType.Value) {
				typ = localTypes.idBytes(c.EventType.Value)
			}
		}
		src := unknown
		if c.Source.Valid && len(c.Source.Value) > 0 {
			if srcs.dict != nil {
				src = srcIDs[srcs.index(i)]
			} else if event.ValidSource(c.Source.Value) && event.ValidUTF8(c.Source.Value) {
				src = localSources.idBytes(c.Source.Value)
			} else {
				src = invalid
			}
		}
		ok := typ != invalid && src != invalid && event.ValidEventID(c.EventID.Value) && event.ValidUTF8(c.EventID.Value) &&
			event.ValidUserID(c.UserID.Value) && event.ValidUTF8(c.UserID.Value) && event.ValidUTF8(c.SessionID.Value) &&
			c.EventTime.Valid && !c.EventTime.Bad && event.ValidTimeMillis(c.EventTime.Millis) &&
			event.ValidSessionID(c.SessionID.Value) && (!c.HasValue || event.ValidValue(c.Value)) &&
			c.NullValues == 0 && event.ValidAttributeCount(c.Attributes) &&
			c.ReceivedTime.Valid && !c.ReceivedTime.Bad && event.ValidTimeMillis(c.ReceivedTime.Millis) &&
			!event.IsFuture(c.EventTime.Millis, c.ReceivedTime.Millis)
		if !ok && b.rejectColumns(&c) {
			continue
		}
		win := hourWindow(c.EventTime.Millis)
		if check && win != want {
			b.reject(ReasonWrongHour)
			continue
		}
		var uh uint64
		if users.dict != nil {
			uh = userHashes[users.index(i)]
		} else {
			uh = agg.UserHash(bytesString(c.UserID.Value))
		}
		b.add(agg.Fingerprint(bytesString(c.EventID.Value)), uh, c.Value, win, typ, src)
		b.idRow = append(b.idRow, uint32(i))
	}
	return nil
}

// sourceID interns a source value: empty means unknown, an invalid one is
// ^uint32(0).
func sourceID(st *runState, v []byte) uint32 {
	switch {
	case len(v) == 0:
		return st.sources.id(event.DefaultSource)
	case !event.ValidSource(v) || !event.ValidUTF8(v):
		return ^uint32(0)
	}
	return st.sources.id(string(v))
}
