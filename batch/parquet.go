package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
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

// The raw columns the batch view needs; the others (session_id,
// received_time, attributes) are never read.
var rawColumns = []string{"event_id", "event_type", "event_time", "user_id", "source", "value"}

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
	have := map[string]bool{}
	for _, name := range rawColumns {
		idx := schema.ColumnIndexByName(name)
		if idx < 0 {
			continue
		}
		have[name] = true
		cols = append(cols, idx)
		if dictColumns[name] && fullyDict(md, rg, idx) {
			props.SetReadDict(idx, true)
		}
	}
	nrows := md.RowGroup(rg).NumRows()
	b.grow(int(nrows))
	b.idRow = slices.Grow(b.idRow, int(nrows))
	for _, req := range []string{"event_id", "event_type", "event_time", "user_id"} {
		if !have[req] {
			// A file without a required column: every row is bad.
			b.rows += nrows
			if b.bad == nil {
				b.bad = map[string]int64{}
			}
			b.bad[string(event.ReasonMissingField)] += nrows
			return nil
		}
	}
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

// millis returns row i's time; ok is false when null or unparseable.
func (c timeColumn) millis(i int) (int64, bool) {
	if c.arr.IsNull(i) {
		return 0, false
	}
	switch {
	case c.ts != nil:
		v := int64(c.ts[i])
		if c.mul != 0 {
			return v * c.mul, true
		}
		if c.div == 1 {
			return v, true
		}
		q := v / c.div
		if v%c.div < 0 {
			q--
		}
		return q, true
	case c.ints != nil:
		return c.ints[i], true
	case c.isStr:
		t, err := time.Parse(time.RFC3339Nano, string(c.strs.value(i)))
		if err != nil {
			return 0, false
		}
		return t.UnixMilli(), true
	}
	return 0, false
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
	ids, ok1 := newStrColumn(col("event_id"))
	types, ok2 := newStrColumn(col("event_type"))
	users, ok3 := newStrColumn(col("user_id"))
	times, ok4 := newTimeColumn(col("event_time"))
	if !ok1 || !ok2 || !ok3 || !ok4 {
		// A required column of a type we cannot read: every row is bad.
		if b.bad == nil {
			b.bad = map[string]int64{}
		}
		b.bad[string(event.ReasonBadType)] += int64(n)
		return nil
	}
	var srcs strColumn
	hasSrc := false
	if a := col("source"); a != nil {
		var ok bool
		if srcs, ok = newStrColumn(a); !ok {
			return fmt.Errorf("column source has type %s, want string", a.DataType())
		}
		hasSrc = true
	}
	var vals *array.Float64
	var valF []float64
	if a := col("value"); a != nil {
		switch v := a.(type) {
		case *array.Float64:
			vals, valF = v, v.Float64Values()
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

	ids.arr.Retain() // the block reads event_ids from it later
	b.idCols = append(b.idCols, ids)
	b.idColStart = append(b.idColStart, len(b.fp))

	// Per-dictionary lookups: interned ids and hashes once per entry.
	const invalid = ^uint32(0)
	typeIDs := make([]uint32, types.dictLen())
	for j := range typeIDs {
		v := types.dictValue(j)
		if validEventType(string(v)) {
			typeIDs[j] = st.types.id(string(v))
		} else {
			typeIDs[j] = invalid
		}
	}
	userHashes := make([]uint64, users.dictLen())
	for j := range userHashes {
		v := users.dictValue(j)
		userHashes[j] = agg.UserHash(string(v))
		if len(v) == 0 || len(v) > event.MaxUserIDBytes {
			userHashes[j] = 0 // checked below by length
		}
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
		id := ids.value(i)
		if id == nil {
			b.reject(string(event.ReasonMissingField))
			continue
		}
		if len(id) == 0 || len(id) > event.MaxEventIDBytes {
			b.reject(string(event.ReasonBadValue))
			continue
		}
		var typ uint32
		if types.arr.IsNull(i) {
			b.reject(string(event.ReasonMissingField))
			continue
		}
		if types.dict != nil {
			typ = typeIDs[types.index(i)]
		} else {
			v := types.value(i)
			if validEventType(string(v)) {
				typ = localTypes.idBytes(v)
			} else {
				typ = invalid
			}
		}
		if typ == invalid {
			b.reject(string(event.ReasonBadValue))
			continue
		}
		if users.arr.IsNull(i) {
			b.reject(string(event.ReasonMissingField))
			continue
		}
		var uh uint64
		if users.dict != nil {
			j := users.index(i)
			if l := len(users.dictValue(j)); l == 0 || l > event.MaxUserIDBytes {
				b.reject(string(event.ReasonBadValue))
				continue
			}
			uh = userHashes[j]
		} else {
			v := users.value(i)
			if len(v) == 0 || len(v) > event.MaxUserIDBytes {
				b.reject(string(event.ReasonBadValue))
				continue
			}
			uh = agg.UserHash(unsafe.String(unsafe.SliceData(v), len(v)))
		}
		ms, ok := times.millis(i)
		if !ok {
			if times.arr.IsNull(i) {
				b.reject(string(event.ReasonMissingField))
			} else {
				b.reject(string(event.ReasonBadValue))
			}
			continue
		}
		win := hourWindow(ms)
		if check && win != want {
			b.reject(ReasonWrongHour)
			continue
		}
		src := unknown
		if hasSrc && !srcs.arr.IsNull(i) {
			if srcs.dict != nil {
				src = srcIDs[srcs.index(i)]
			} else {
				v := srcs.value(i)
				switch {
				case len(v) == 0:
					src = unknown
				case len(v) > event.MaxSourceBytes:
					src = invalid
				default:
					src = localSources.idBytes(v)
				}
			}
		}
		if src == invalid {
			b.reject(string(event.ReasonBadValue))
			continue
		}
		var v float64
		if valF != nil && (vals == nil || !vals.IsNull(i)) {
			v = valF[i]
			if !finite(v) {
				b.reject(string(event.ReasonBadValue))
				continue
			}
		}
		b.add(agg.Fingerprint(unsafe.String(unsafe.SliceData(id), len(id))), uh, v, win, typ, src)
		b.idRow = append(b.idRow, uint32(i))
	}
	return nil
}

// sourceID interns a source value: empty means unknown, too long is invalid.
func sourceID(st *runState, v []byte) uint32 {
	switch {
	case len(v) == 0:
		return st.sources.id(event.DefaultSource)
	case len(v) > event.MaxSourceBytes:
		return ^uint32(0)
	}
	return st.sources.id(string(v))
}
