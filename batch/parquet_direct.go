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
	session, received               int   // leaf column indices; -1 when absent
	timeDiv, receivedDiv            int64 // event_time and received_time units per millisecond
	// attrs is the leaf of the attributes map's values (-1 when absent);
	// a definition level of attrEntry or more is an entry, attrEntry
	// itself a null value when attrNullable.
	attrs        int
	attrEntry    int16
	attrNullable bool
}

// planDirect checks whether the file can be read directly.
func planDirect(md *metadata.FileMetaData) (directLayout, bool) {
	sc := md.Schema
	l := directLayout{id: -1, typ: -1, user: -1, time: -1, src: -1, value: -1, session: -1, received: -1, attrs: -1}
	for _, c := range []struct {
		name string
		dst  *int
		typ  parquet.Type
	}{
		{"event_id", &l.id, parquet.Types.ByteArray},
		{"event_type", &l.typ, parquet.Types.ByteArray},
		{"user_id", &l.user, parquet.Types.ByteArray},
		{"event_time", &l.time, parquet.Types.Int64},
		{"session_id", &l.session, parquet.Types.ByteArray},
		{"source", &l.src, parquet.Types.ByteArray},
		{"value", &l.value, parquet.Types.Double},
		{"received_time", &l.received, parquet.Types.Int64},
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
	l.timeDiv = timeDiv(sc.Column(l.time))
	if l.received >= 0 {
		l.receivedDiv = timeDiv(sc.Column(l.received))
	}
	// attributes: a map (one repeated level) whose value leaf is a string.
	for i := 0; i < sc.NumColumns(); i++ {
		col := sc.Column(i)
		path := col.ColumnPath()
		if len(path) == 0 || path[0] != "attributes" {
			continue
		}
		if len(path) != 3 || col.MaxRepetitionLevel() != 1 || col.PhysicalType() != parquet.Types.ByteArray {
			return l, false
		}
		if path[2] != "value" {
			continue
		}
		l.attrs = i
		l.attrNullable = col.SchemaNode().RepetitionType() == parquet.Repetitions.Optional
		l.attrEntry = col.MaxDefinitionLevel()
		if l.attrNullable {
			l.attrEntry--
		}
	}
	return l, true
}

// timeDiv is the units per millisecond of an INT64 time column: a
// timestamp in any unit, or plain epoch milliseconds.
func timeDiv(col *schema.Column) int64 {
	// arrow-go returns the logical type by value (older versions by
	// pointer), so ask for the method rather than the concrete type.
	if ts, ok := col.LogicalType().(interface{ TimeUnit() schema.TimeUnitType }); ok {
		switch ts.TimeUnit() {
		case schema.TimeUnitMicros:
			return 1000
		case schema.TimeUnitNanos:
			return 1000000
		}
	} else if col.ConvertedType() == schema.ConvertedTypes.TimestampMicros {
		return 1000
	}
	return 1
}

// int64Range is a column chunk's minimum and maximum from its statistics;
// ok is false when they are not recorded or the chunk has nulls.
func int64Range(rgr *file.RowGroupReader, idx int) (lo, hi int64, ok bool) {
	cc, err := rgr.MetaData().ColumnChunk(idx)
	if err != nil {
		return 0, 0, false
	}
	if set, err := cc.StatsSet(); err != nil || !set {
		return 0, 0, false
	}
	st, err := cc.Statistics()
	if err != nil {
		return 0, 0, false
	}
	is, isInt := st.(*metadata.Int64Statistics)
	if !isInt || !is.HasMinMax() || !is.HasNullCount() || is.NullCount() != 0 {
		return 0, 0, false
	}
	return is.Min(), is.Max(), true
}

// receivedNeeded reports whether the rules need received_time read row by
// row: false when the statistics show every received_time present and in
// range and no event_time more than the allowed skew after the earliest.
func receivedNeeded(rgr *file.RowGroupReader, l directLayout) bool {
	rlo, rhi, ok1 := int64Range(rgr, l.received)
	_, ehi, ok2 := int64Range(rgr, l.time)
	if !ok1 || !ok2 {
		return true
	}
	rlo, rhi, ehi = floorDiv(rlo, l.receivedDiv), floorDiv(rhi, l.receivedDiv), floorDiv(ehi, l.timeDiv)
	return !event.ValidTimeMillis(rlo) || !event.ValidTimeMillis(rhi) || event.IsFuture(ehi, rlo)
}

// floorDiv divides v by d rounding down (a time before 1970 stays in its
// millisecond).
func floorDiv(v, d int64) int64 {
	if d == 1 {
		return v
	}
	q := v / d
	if v%d < 0 {
		q--
	}
	return q
}

// attrCounts is, per row, the number of attributes, of null attribute
// values, and whether the map is present.
type attrCounts struct {
	n, nulls []int32
	present  []bool
}

// readAttrCounts counts the attributes of each of n rows from the levels of
// the map's value leaf. It returns empty counts when every row passes the
// attribute rules, so the rows need no check of their own.
func readAttrCounts(rgr *file.RowGroupReader, l directLayout, n int64, sc *directScratch) (attrCounts, error) {
	cc, err := rgr.MetaData().ColumnChunk(l.attrs)
	if err != nil {
		return attrCounts{}, err
	}
	total := cc.NumValues()
	cr, err := rgr.Column(l.attrs)
	if err != nil {
		return attrCounts{}, err
	}
	r, ok := cr.(*file.ByteArrayColumnChunkReader)
	if !ok {
		return attrCounts{}, fmt.Errorf("column %d is not BYTE_ARRAY", l.attrs)
	}
	if int64(cap(sc.attrDefs)) < total {
		sc.attrDefs, sc.attrReps, sc.attrVals = make([]int16, total), make([]int16, total), make([]parquet.ByteArray, total)
	}
	defs, reps, vals := sc.attrDefs[:total], sc.attrReps[:total], sc.attrVals[:total]
	defer clear(vals) // the pooled buffer must not keep the pages alive
	var lvls int64
	read := 0
	for lvls < total {
		nl, nv, err := r.ReadBatch(total-lvls, vals[read:], defs[lvls:], reps[lvls:])
		if err != nil {
			return attrCounts{}, err
		}
		if nl == 0 {
			return attrCounts{}, fmt.Errorf("ended after %d of %d levels", lvls, total)
		}
		lvls += nl
		read += nv
	}
	c := attrCounts{n: make([]int32, n), nulls: make([]int32, n), present: make([]bool, n)}
	row := -1
	for k, d := range defs {
		if reps[k] == 0 {
			if row++; int64(row) >= n {
				return attrCounts{}, fmt.Errorf("more than %d rows", n)
			}
			c.present[row] = d >= l.attrEntry-1
		}
		if row < 0 {
			return attrCounts{}, fmt.Errorf("levels start inside a row")
		}
		if d >= l.attrEntry {
			c.n[row]++
			if l.attrNullable && d == l.attrEntry {
				c.nulls[row]++
			}
		}
	}
	if int64(row+1) != n {
		return attrCounts{}, fmt.Errorf("%d rows of %d", row+1, n)
	}
	for i := range c.n {
		if c.nulls[i] > 0 || !event.ValidAttributeCount(int(c.n[i])) {
			return c, nil
		}
	}
	return attrCounts{}, nil
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
	types, users, sessions, srcs []parquet.ByteArray
	defs                         []int16
	attrDefs, attrReps           []int16
	attrVals                     []parquet.ByteArray
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
	var sessions []parquet.ByteArray
	if l.session >= 0 {
		if sessions, err = byteArrays(rgr, l.session, n, sc.sessions, &sc.defs); err != nil {
			return fmt.Errorf("reading session_id: %w", err)
		}
		sc.sessions = sessions
		valid := true
		for _, v := range sessions {
			if !event.ValidSessionID(v) || !event.ValidUTF8(v) {
				valid = false
				break
			}
		}
		if valid {
			sessions = nil // no row needs a check of its own
		}
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
	var recv []int64
	var recvOK []bool
	recvChecked := false // every row's received_time passes, by the statistics
	if l.received >= 0 && !receivedNeeded(rgr, l) {
		recvChecked = true
	} else if l.received >= 0 {
		if recv, recvOK, err = int64s(rgr, l.received, n); err != nil {
			return fmt.Errorf("reading received_time: %w", err)
		}
	}
	var attrs attrCounts
	if l.attrs >= 0 {
		if attrs, err = readAttrCounts(rgr, l, n, sc); err != nil {
			return fmt.Errorf("reading attributes: %w", err)
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
	// row is row i as the event model's owner reads it, for the rows that
	// fail a check below.
	row := func(i int) *event.Columns {
		c := &event.Columns{
			EventID:   event.Column{Value: ids[i], Valid: ids[i] != nil},
			EventType: event.Column{Value: types[i], Valid: types[i] != nil},
			UserID:    event.Column{Value: users[i], Valid: users[i] != nil},
			EventTime: event.TimeColumn{Millis: floorDiv(times[i], l.timeDiv), Valid: timeOK == nil || timeOK[i]},
		}
		if sessions != nil {
			c.SessionID = event.Column{Value: sessions[i], Valid: sessions[i] != nil}
		}
		if srcs != nil {
			c.Source = event.Column{Value: srcs[i], Valid: srcs[i] != nil}
		}
		if vals != nil && (valOK == nil || valOK[i]) {
			c.Value, c.HasValue = vals[i], true
		}
		switch {
		case recvChecked:
			c.ReceivedTime = event.TimeColumn{Millis: c.EventTime.Millis, Valid: true} // passes, as the statistics show
		case recv != nil:
			c.ReceivedTime = event.TimeColumn{Millis: floorDiv(recv[i], l.receivedDiv), Valid: recvOK == nil || recvOK[i]}
		}
		if attrs.n != nil {
			c.Attributes, c.NullValues, c.HasAttributes = int(attrs.n[i]), int(attrs.nulls[i]), attrs.present[i]
		}
		return c
	}
	for i := 0; i < int(n); i++ {
		id, tv, uv := ids[i], types[i], users[i]
		ok := event.ValidEventID(id) && event.ValidUTF8(id) && tv != nil && event.ValidUserID(uv) && event.ValidUTF8(uv) &&
			(timeOK == nil || timeOK[i])
		var typ uint32
		if ok {
			typ = typeIDs.idBytes(tv)
			valid, seen := validType[typ]
			if !seen {
				valid = event.ValidEventType(tv)
				validType[typ] = valid
			}
			ok = valid
		}
		ms := floorDiv(times[i], l.timeDiv)
		ok = ok && event.ValidTimeMillis(ms) &&
			(sessions == nil || event.ValidSessionID(sessions[i]) && event.ValidUTF8(sessions[i])) &&
			(srcs == nil || event.ValidSource(srcs[i]) && event.ValidUTF8(srcs[i]))
		var v float64
		if ok && vals != nil && (valOK == nil || valOK[i]) {
			v = vals[i]
			ok = event.ValidValue(v)
		}
		if ok && attrs.n != nil {
			ok = attrs.nulls[i] == 0 && event.ValidAttributeCount(int(attrs.n[i]))
		}
		if ok && !recvChecked {
			ok = recv != nil && (recvOK == nil || recvOK[i])
			if ok {
				rms := floorDiv(recv[i], l.receivedDiv)
				ok = event.ValidTimeMillis(rms) && !event.IsFuture(ms, rms)
			}
		}
		if !ok {
			if b.rejectColumns(row(i)) {
				continue
			}
			// The owner accepts what a check above refused: take its word.
			typ = typeIDs.idBytes(tv)
			if vals != nil && (valOK == nil || valOK[i]) {
				v = vals[i]
			}
		}
		win := hourWindow(ms)
		if check && win != want {
			b.reject(ReasonWrongHour)
			continue
		}
		src := unknown
		if srcs != nil && len(srcs[i]) > 0 {
			src = srcIDs.idBytes(srcs[i])
		}
		b.add(agg.Fingerprint(bytesString(id)), agg.UserHash(bytesString(uv)), v, win, typ, src)
		b.idRow = append(b.idRow, uint32(i))
	}
	return nil
}
