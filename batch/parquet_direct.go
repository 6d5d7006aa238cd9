package batch

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
)

// The direct reader reads the raw columns with Parquet's column readers,
// without building Arrow arrays: strings stay slices of the decoded pages
// (each page has its own buffer, so they stay valid), which saves copying
// every event_id and user_id. It handles the common layout (flat columns,
// strings as BYTE_ARRAY, event_time as INT64 timestamp or epoch
// milliseconds, value as DOUBLE); anything else goes through pqarrow.

// directLayout is where the direct reader finds each column.
type directLayout struct {
	id, typ, user, time, src, value int   // leaf column indices; -1 when absent
	timeDiv                         int64 // event_time units per millisecond
}

// planDirect checks whether the file can be read directly.
func planDirect(md *metadata.FileMetaData) (directLayout, bool) {
	sc := md.Schema
	l := directLayout{id: -1, typ: -1, user: -1, time: -1, src: -1, value: -1}
	for _, c := range []struct {
		name string
		dst  *int
		typ  parquet.Type
	}{
		{"event_id", &l.id, parquet.Types.ByteArray},
		{"event_type", &l.typ, parquet.Types.ByteArray},
		{"user_id", &l.user, parquet.Types.ByteArray},
		{"event_time", &l.time, parquet.Types.Int64},
		{"source", &l.src, parquet.Types.ByteArray},
		{"value", &l.value, parquet.Types.Double},
	} {
		idx := sc.ColumnIndexByName(c.name)
		if idx < 0 {
			continue
		}
		col := sc.Column(idx)
		if col.MaxRepetitionLevel() != 0 || col.MaxDefinitionLevel() > 1 || col.PhysicalType() != c.typ {
			return l, false
		}
		*c.dst = idx
	}
	if l.id < 0 || l.typ < 0 || l.user < 0 || l.time < 0 {
		return l, false // pqarrow's path counts the missing column
	}
	// event_time: a timestamp in any unit, or plain INT64 epoch millis.
	col := sc.Column(l.time)
	l.timeDiv = 1
	// arrow-go returns the logical type by value (older versions by
	// pointer), so ask for the method rather than the concrete type.
	if ts, ok := col.LogicalType().(interface{ TimeUnit() schema.TimeUnitType }); ok {
		switch ts.TimeUnit() {
		case schema.TimeUnitMicros:
			l.timeDiv = 1000
		case schema.TimeUnitNanos:
			l.timeDiv = 1000000
		}
	} else if col.ConvertedType() == schema.ConvertedTypes.TimestampMicros {
		l.timeDiv = 1000
	}
	return l, true
}

// byteArrays reads a BYTE_ARRAY column of n rows into dst (reallocated
// when nil or short); null rows are nil.
func byteArrays(rgr *file.RowGroupReader, idx int, n int64, dst []parquet.ByteArray, scratch *[]int16) ([]parquet.ByteArray, error) {
	cr, err := rgr.Column(idx)
	if err != nil {
		return nil, err
	}
	r, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return nil, fmt.Errorf("column %d is not BYTE_ARRAY", idx)
	}
	vals := dst
	if int64(cap(vals)) < n {
		vals = make([]parquet.ByteArray, n)
	}
	vals = vals[:n]
	nullable := cr.Descriptor().MaxDefinitionLevel() > 0
	var defs []int16
	if nullable {
		if int64(cap(*scratch)) < n {
			*scratch = make([]int16, n)
		}
		defs = (*scratch)[:n]
	}
	var lvls int64
	read := 0
	for lvls < n {
		var dl []int16
		if nullable {
			dl = defs[lvls:]
		}
		l, v, err := r.ReadBatch(n-lvls, vals[read:], dl, nil)
		if err != nil {
			return nil, err
		}
		if l == 0 {
			return nil, fmt.Errorf("column %d ended after %d of %d rows", idx, lvls, n)
		}
		lvls += l
		read += v
	}
	if nullable && read < int(n) {
		// Spread the dense values over the rows, nulls as nil.
		j := read - 1
		for i := int(n) - 1; i >= 0; i-- {
			if defs[i] == 1 {
				vals[i] = vals[j]
				j--
			} else {
				vals[i] = nil
			}
		}
	}
	for i := range vals {
		if vals[i] == nil && (!nullable || defs[i] == 1) {
			vals[i] = parquet.ByteArray{} // empty, not null
		}
	}
	return vals, nil
}

// fixedColumn reads a fixed-width column of n rows with a validity mask;
// R is the column chunk reader of T's physical type, named kind in errors.
func fixedColumn[T int64 | float64, R interface {
	ReadBatch(batchSize int64, values []T, defLvls, repLvls []int16) (int64, int, error)
}](rgr *file.RowGroupReader, idx int, n int64, kind string) ([]T, []bool, error) {
	cr, err := rgr.Column(idx)
	if err != nil {
		return nil, nil, err
	}
	r, ok := cr.(R)
	if !ok {
		return nil, nil, fmt.Errorf("column %d is not %s", idx, kind)
	}
	vals := make([]T, n)
	defs, err := readLevels(n, cr.Descriptor().MaxDefinitionLevel() > 0, func(dl []int16, from int64, read int) (int64, int, error) {
		return r.ReadBatch(n-from, vals[read:], dl, nil)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("column %d: %w", idx, err)
	}
	return vals, spread(vals, defs), nil
}

// int64s reads an INT64 column of n rows with a validity mask.
func int64s(rgr *file.RowGroupReader, idx int, n int64) ([]int64, []bool, error) {
	return fixedColumn[int64, *file.Int64ColumnChunkReader](rgr, idx, n, "INT64")
}

// float64s reads a DOUBLE column of n rows with a validity mask.
func float64s(rgr *file.RowGroupReader, idx int, n int64) ([]float64, []bool, error) {
	return fixedColumn[float64, *file.Float64ColumnChunkReader](rgr, idx, n, "DOUBLE")
}

// readLevels drives ReadBatch until n rows are read and returns the
// definition levels (nil for a required column).
func readLevels(n int64, nullable bool, batch func(dl []int16, from int64, read int) (int64, int, error)) ([]int16, error) {
	var defs []int16
	if nullable {
		defs = make([]int16, n)
	}
	var lvls int64
	read := 0
	for lvls < n {
		var dl []int16
		if nullable {
			dl = defs[lvls:]
		}
		l, v, err := batch(dl, lvls, read)
		if err != nil {
			return nil, err
		}
		if l == 0 {
			return nil, fmt.Errorf("ended after %d of %d rows", lvls, n)
		}
		lvls += l
		read += v
	}
	return defs, nil
}

// spread moves dense values to their rows and returns the validity mask
// (nil when every row is valid).
func spread[T any](vals []T, defs []int16) []bool {
	if defs == nil {
		return nil
	}
	valid := make([]bool, len(vals))
	read := 0
	for _, d := range defs {
		if d == 1 {
			read++
		}
	}
	j := read - 1
	for i := len(vals) - 1; i >= 0; i-- {
		if defs[i] == 1 {
			vals[i] = vals[j]
			valid[i] = true
			j--
		}
	}
	return valid
}

func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// readRowGroupDirect is readRowGroup through the column readers.
// directScratch holds the column buffers a row group needs only while it
// is read (event_ids are kept by the block, so they get fresh memory).
type directScratch struct {
	types, users, srcs []parquet.ByteArray
	defs               []int16
}

var scratchPool = sync.Pool{New: func() any { return &directScratch{} }}

func readRowGroupDirect(st *runState, pf *file.Reader, l directLayout, rg int, s Source, b *block) error {
	rgr := pf.RowGroup(rg)
	n := rgr.NumRows()
	sc := scratchPool.Get().(*directScratch)
	defer scratchPool.Put(sc)
	ids, err := byteArrays(rgr, l.id, n, nil, &sc.defs)
	if err != nil {
		return fmt.Errorf("reading event_id: %w", err)
	}
	types, err := byteArrays(rgr, l.typ, n, sc.types, &sc.defs)
	if err != nil {
		return fmt.Errorf("reading event_type: %w", err)
	}
	sc.types = types
	users, err := byteArrays(rgr, l.user, n, sc.users, &sc.defs)
	if err != nil {
		return fmt.Errorf("reading user_id: %w", err)
	}
	sc.users = users
	times, timeOK, err := int64s(rgr, l.time, n)
	if err != nil {
		return fmt.Errorf("reading event_time: %w", err)
	}
	var srcs []parquet.ByteArray
	if l.src >= 0 {
		if srcs, err = byteArrays(rgr, l.src, n, sc.srcs, &sc.defs); err != nil {
			return fmt.Errorf("reading source: %w", err)
		}
		sc.srcs = srcs
	}
	var vals []float64
	var valOK []bool
	if l.value >= 0 {
		if vals, valOK, err = float64s(rgr, l.value, n); err != nil {
			return fmt.Errorf("reading value: %w", err)
		}
	}

	b.rows += n
	b.grow(int(n))
	b.idRow = slices.Grow(b.idRow, int(n))
	b.idArrs = append(b.idArrs, ids)
	b.idColStart = append(b.idColStart, len(b.fp))
	typeIDs := &localInterner{shared: st.types, cache: map[string]uint32{}}
	srcIDs := &localInterner{shared: st.sources, cache: map[string]uint32{}}
	unknown := st.sources.id(event.DefaultSource)
	validType := map[uint32]bool{}
	var want int32
	check := !s.Hour.IsZero()
	if check {
		want = hourWindow(s.Hour.UnixMilli())
	}
	for i := 0; i < int(n); i++ {
		id := ids[i]
		switch {
		case id == nil:
			b.reject(string(event.ReasonMissingField))
			continue
		case len(id) == 0 || len(id) > event.MaxEventIDBytes:
			b.reject(string(event.ReasonBadValue))
			continue
		}
		tv := types[i]
		if tv == nil {
			b.reject(string(event.ReasonMissingField))
			continue
		}
		typ := typeIDs.idBytes(tv)
		ok, seen := validType[typ]
		if !seen {
			ok = validEventType(string(tv))
			validType[typ] = ok
		}
		if !ok {
			b.reject(string(event.ReasonBadValue))
			continue
		}
		uv := users[i]
		switch {
		case uv == nil:
			b.reject(string(event.ReasonMissingField))
			continue
		case len(uv) == 0 || len(uv) > event.MaxUserIDBytes:
			b.reject(string(event.ReasonBadValue))
			continue
		}
		if timeOK != nil && !timeOK[i] {
			b.reject(string(event.ReasonMissingField))
			continue
		}
		ms := times[i]
		if l.timeDiv != 1 {
			q := ms / l.timeDiv
			if ms%l.timeDiv < 0 {
				q--
			}
			ms = q
		}
		win := hourWindow(ms)
		if check && win != want {
			b.reject(ReasonWrongHour)
			continue
		}
		src := unknown
		if srcs != nil && len(srcs[i]) > 0 {
			if len(srcs[i]) > event.MaxSourceBytes {
				b.reject(string(event.ReasonBadValue))
				continue
			}
			src = srcIDs.idBytes(srcs[i])
		}
		var v float64
		if vals != nil && (valOK == nil || valOK[i]) {
			v = vals[i]
			if !finite(v) {
				b.reject(string(event.ReasonBadValue))
				continue
			}
		}
		b.add(agg.Fingerprint(bytesString(id)), agg.UserHash(bytesString(uv)), v, win, typ, src)
		b.idRow = append(b.idRow, uint32(i))
	}
	return nil
}
