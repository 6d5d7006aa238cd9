package batch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/parquet"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/views"
)

// Source is one input of the engine: a raw object (NDJSON, plain or gzip,
// or Parquet; the format is sniffed from the content).
type Source struct {
	Name string
	Size int64
	// Hour is the partition hour the object was found under. Events whose
	// event_time falls in another hour are counted as bad (wrong_hour) so
	// that an hour is always rebuilt from its own partition. Zero accepts
	// any hour.
	Hour time.Time
	// Fetch returns the object's bytes, or Open streams them (NDJSON is
	// then parsed while it arrives; Parquet is read whole). Set one.
	Fetch func(ctx context.Context) ([]byte, error)
	Open  func(ctx context.Context) (io.ReadCloser, error)
}

// Options tunes an engine run.
type Options struct {
	// Workers decoding and aggregating; 0 means GOMAXPROCS.
	Workers int
	// Progress, when set, is told about every object read and rows decoded.
	Progress *Progress
}

// Result is what an engine run produced.
type Result struct {
	// Hours holds one exact, deduplicated aggregate per (hour, event_type,
	// source). Aggregates do not track fingerprints.
	Hours agg.Table
	// Rows counts every record read (valid or not); Valid the records that
	// passed validation; Duplicates the valid records whose event_id was
	// already counted in the same hour.
	Rows, Valid, Duplicates int64
	// Bad counts rejected records by reason code.
	Bad map[string]int64
	// Bytes is the raw bytes read (before decompression).
	Bytes int64
}

// Reason codes the batch reader adds to those of the event package (whose
// codes it uses for bad records: missing_field, bad_value, bad_type, …).
const (
	ReasonWrongHour  = "wrong_hour" // event_time outside the partition hour it was stored under
	ReasonUnreadable = "unreadable" // an object that is not NDJSON, gzip or Parquet, or is corrupt
)

// partitions is the fixed number of fingerprint partitions the aggregation
// is split into (by the top bits of the fingerprint). Many small partitions
// keep each partition's dedup table in cache; the count is a constant (not
// the worker count) so that the order in which values are summed, and hence
// every bit of the output, does not depend on the machine.
const (
	partitionBits = 8
	partitions    = 1 << partitionBits
)

// block is the compact, columnar form of the valid events of one unit of
// input (a Parquet row group or a piece of an NDJSON object).
type block struct {
	fp   []uint64 // fingerprint of event_id
	user []uint64 // hash of user_id
	val  []float64
	win  []int32  // hour window: hours since the Unix epoch
	typ  []uint32 // interned event_type
	src  []uint32 // interned source
	// The event_ids, only read to confirm a fingerprint match: NDJSON
	// blocks keep the parsed strings, Parquet blocks the Arrow columns
	// they came from (no copy) and each event's row in them.
	idArena    []byte                // NDJSON: the event_ids one after another
	idEnd      []uint32              // and where each ends
	idCols     []strColumn           // pqarrow's event_id columns
	idArrs     [][]parquet.ByteArray // or the direct reader's
	idColStart []int                 // index of the first event of each column
	idRow      []uint32
	rows       int64
	bad        map[string]int64
}

// grow makes room for n more events.
func (b *block) grow(n int) {
	b.fp = slices.Grow(b.fp, n)
	b.user = slices.Grow(b.user, n)
	b.val = slices.Grow(b.val, n)
	b.win = slices.Grow(b.win, n)
	b.typ = slices.Grow(b.typ, n)
	b.src = slices.Grow(b.src, n)
}

func (b *block) add(fp, user uint64, val float64, win int32, typ, src uint32) {
	b.fp = append(b.fp, fp)
	b.user = append(b.user, user)
	b.val = append(b.val, val)
	b.win = append(b.win, win)
	b.typ = append(b.typ, typ)
	b.src = append(b.src, src)
}

// id is event i's event_id (for Parquet blocks, a view into Arrow memory).
func (b *block) id(i int) string {
	if b.idEnd != nil {
		start := uint32(0)
		if i > 0 {
			start = b.idEnd[i-1]
		}
		return bytesString(b.idArena[start:b.idEnd[i]])
	}
	c := sort.Search(len(b.idColStart), func(j int) bool { return b.idColStart[j] > i }) - 1
	if b.idArrs != nil {
		return bytesString(b.idArrs[c][b.idRow[i]])
	}
	v := b.idCols[c].value(int(b.idRow[i]))
	return unsafe.String(unsafe.SliceData(v), len(v))
}

func (b *block) reject(reason string) {
	if b.bad == nil {
		b.bad = map[string]int64{}
	}
	b.bad[reason]++
}

// rejectColumns counts a columnar row that failed a field check under the
// reason the event model's owner gives it. It returns false, counting
// nothing, when the owner accepts the row.
func (b *block) rejectColumns(c *event.Columns) bool {
	rej := event.CheckColumns(c)
	if rej == nil {
		return false
	}
	b.reject(string(rej.Reason))
	return true
}

// interner gives small ids to event types and sources, shared by the
// workers of one run.
type interner struct {
	mu    sync.Mutex
	ids   map[string]uint32
	names []string
}

func newInterner() *interner { return &interner{ids: map[string]uint32{}} }

func (in *interner) id(s string) uint32 {
	in.mu.Lock()
	id, ok := in.ids[s]
	if !ok {
		id = uint32(len(in.names))
		in.ids[s] = id
		in.names = append(in.names, s)
	}
	in.mu.Unlock()
	return id
}

func (in *interner) name(id uint32) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.names[id]
}

// localInterner caches a shared interner's ids in one worker, so the lock is
// taken once per distinct string.
type localInterner struct {
	shared *interner
	cache  map[string]uint32
}

func (l *localInterner) idBytes(b []byte) uint32 {
	if id, ok := l.cache[string(b)]; ok {
		return id
	}
	s := string(b)
	id := l.shared.id(s)
	l.cache[s] = id
	return id
}

const hourMillis = int64(time.Hour / time.Millisecond)

// hourWindow is the hour of a Unix millisecond time, as hours since the epoch.
func hourWindow(ms int64) int32 {
	h := ms / hourMillis
	if ms%hourMillis < 0 {
		h--
	}
	return int32(h)
}

func windowTime(w int32) time.Time { return time.UnixMilli(int64(w) * hourMillis).UTC() }

// decoder turns one source's bytes into units of work.
type unit func(ctx context.Context, st *runState, b *block) error

type runState struct {
	types, sources *interner
	progress       *Progress
}

// Aggregate reads sources, validates and deduplicates their events and
// aggregates them per hour. Bad records are counted, never fatal; an error
// is returned only when a source cannot be fetched or the run is cancelled.
func Aggregate(ctx context.Context, sources []Source, opt Options) (*Result, error) {
	ra := startReadAhead(ctx, [][]Source{sources})
	defer ra.stop()
	return aggregate(ctx, sources, ra, 0, opt)
}

// aggregate is Aggregate over hour h of ra, which reads sources.
func aggregate(ctx context.Context, sources []Source, ra *readAhead, h int, opt Options) (*Result, error) {
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	st := &runState{types: newInterner(), sources: newInterner(), progress: opt.Progress}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// The sources are read ahead of decoding, in order (ra), so a slow
	// store and the decompression overlap with work; streamed NDJSON
	// arrives in pieces of whole lines.
	type job struct {
		u    unit
		slot **block
	}
	jobs := make(chan job, workers*2)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue
				}
				b := &block{}
				if err := j.u(ctx, st, b); err != nil {
					firstErr.CompareAndSwap(nil, err)
					cancel(err)
					continue
				}
				*j.slot = b
				if st.progress != nil {
					st.progress.rows(b.rows)
				}
			}
		}()
	}

	res := &Result{Bad: map[string]int64{}}
	var slots []**block // in source order, then piece order
	dispatch := func(units []unit) {
		for _, u := range units {
			slot := new(*block)
			slots = append(slots, slot)
			select {
			case jobs <- job{u: u, slot: slot}:
			case <-ctx.Done():
			}
		}
	}
	var fetchErr error
	for f := range ra.begin(h) {
		ra.release(f)
		if ctx.Err() != nil {
			break // a worker failed, or the run is cancelled
		}
		src := sources[f.i]
		switch {
		case f.err != nil:
			fetchErr = f.err
		case f.unreadable != nil:
			// Unreadable object: count it, keep going.
			res.Bad[ReasonUnreadable]++
			if st.progress != nil {
				st.progress.note("skipping %s: %v", src.Name, f.unreadable)
			}
		case f.piece:
			dispatch(ndjsonUnits(f.data, src))
		case f.done:
			res.Bytes += f.size
			if st.progress != nil {
				st.progress.object(f.size)
			}
		default:
			res.Bytes += int64(len(f.data))
			units, err := split(f.data, src)
			if err != nil {
				res.Bad[ReasonUnreadable]++
				if st.progress != nil {
					st.progress.note("skipping %s: %v", src.Name, err)
				}
				continue
			}
			dispatch(units)
			if st.progress != nil {
				st.progress.object(int64(len(f.data)))
			}
		}
		if fetchErr != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if fetchErr != nil {
		return nil, fetchErr
	}
	if err, ok := firstErr.Load().(error); ok && err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}

	var blocks []*block
	for _, slot := range slots {
		b := *slot
		if b == nil {
			continue
		}
		blocks = append(blocks, b)
		res.Rows += b.rows
		res.Valid += int64(len(b.fp))
		for r, n := range b.bad {
			res.Bad[r] += n
		}
	}
	hours, dups, err := aggregateBlocks(blocks, workers, st)
	if err != nil {
		return nil, err
	}
	res.Hours = hours
	res.Duplicates = dups
	return res, nil
}

// split sniffs the format of data and cuts it into units of work.
func split(data []byte, s Source) ([]unit, error) {
	switch {
	case bytes.HasPrefix(data, []byte("PAR1")):
		return parquetUnits(data, s)
	case len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b:
		plain, err := gunzip(data)
		if err != nil {
			return nil, fmt.Errorf("decompressing: %w", err)
		}
		return ndjsonUnits(plain, s), nil
	}
	return ndjsonUnits(data, s), nil
}

// sketchAfter is the number of user hashes a key collects before it moves
// them into a sketch. Small keys keep their hashes and get their sketch at
// the end, from the sorted distinct hashes; either way the sketch is the one
// the key's distinct users give (hll.Union keeps that form), whatever the
// order and the partitioning of the input.
const sketchAfter = 2048

// acc accumulates one key in one partition.
type acc struct {
	events int64
	sum    float64
	users  []uint64
	sketch *hll.Sketch
}

func (a *acc) add(user uint64, v float64) {
	a.events++
	a.sum += v
	if a.sketch != nil {
		a.sketch.AddHash(user)
		return
	}
	a.users = append(a.users, user)
	if len(a.users) >= sketchAfter {
		a.toSketch()
	}
}

// toSketch moves the collected hashes into a new sketch.
func (a *acc) toSketch() {
	a.sketch = hll.New()
	for _, u := range a.users {
		a.sketch.AddHash(u)
	}
	a.users = nil
}

func (a *acc) aggregate() *agg.Aggregate {
	if a.sketch == nil {
		slices.Sort(a.users)
		a.users = slices.Compact(a.users)
		a.toSketch()
	}
	return &agg.Aggregate{Events: a.events, ValueSum: a.sum, Users: a.sketch}
}

// merge adds b (a later partition) into a.
func (a *acc) merge(b *acc) error {
	a.events += b.events
	a.sum += b.sum
	switch {
	case a.sketch != nil && b.sketch != nil:
		return a.sketch.Union(b.sketch)
	case a.sketch != nil:
		for _, u := range b.users {
			a.sketch.AddHash(u)
		}
	case b.sketch != nil:
		d := b.sketch.Clone()
		for _, u := range a.users {
			d.AddHash(u)
		}
		a.sketch, a.users = d, nil
	default:
		a.users = append(a.users, b.users...)
		if len(a.users) >= sketchAfter {
			a.toSketch()
		}
	}
	return nil
}

// packKey packs an hour window and interned type and source into one map key.
func packKey(win int32, typ, src uint32) uint64 {
	return uint64(uint32(win))<<40 | uint64(typ&0xfffff)<<20 | uint64(src&0xfffff)
}

func unpackKey(k uint64) (int32, uint32, uint32) {
	return int32(uint32(k >> 40)), uint32(k>>20) & 0xfffff, uint32(k) & 0xfffff
}

// rec is one event scattered to its partition.
type rec struct {
	fp, user uint64
	val      float64
	key      uint64 // packKey(window, type, source)
	ref      uint32 // global row, to read the event_id back
}

// scattered is one block's events grouped by partition: partition p's are
// recs[off[p]:off[p+1]], in block order.
type scattered struct {
	recs []rec
	off  [partitions + 1]int
}

func scatter(b *block, base int) *scattered {
	sc := &scattered{recs: make([]rec, len(b.fp))}
	var counts [partitions]int
	for _, fp := range b.fp {
		counts[fp>>(64-partitionBits)]++
	}
	for p := 0; p < partitions; p++ {
		sc.off[p+1] = sc.off[p] + counts[p]
	}
	next := sc.off
	for i, fp := range b.fp {
		p := fp >> (64 - partitionBits)
		sc.recs[next[p]] = rec{fp: fp, user: b.user[i], val: b.val[i], key: packKey(b.win[i], b.typ[i], b.src[i]), ref: uint32(base + i)}
		next[p]++
	}
	return sc
}

// aggregateBlocks deduplicates by (hour, event_id) and aggregates. Events
// are scattered into fixed partitions by fingerprint; each partition dedups
// on its own (an event_id always lands in the same partition) with a table
// small enough to stay in cache. The partitions' accumulators are then
// combined in partition order and each key's sketch is built once.
func aggregateBlocks(blocks []*block, workers int, st *runState) (agg.Table, int64, error) {
	if len(st.types.names) > 0xfffff || len(st.sources.names) > 0xfffff {
		return nil, 0, fmt.Errorf("more than %d distinct event types or sources", 0xfffff)
	}
	var total int
	starts := make([]int, len(blocks)+1)
	for i, b := range blocks {
		total += len(b.fp)
		starts[i+1] = total
	}
	if total >= 1<<32-1 {
		return nil, 0, fmt.Errorf("%d events in one run: more than this engine indexes", total)
	}
	sc := make([]*scattered, len(blocks))
	parallel(workers, len(blocks), func(i int) { sc[i] = scatter(blocks[i], starts[i]) })
	parts := make([]map[uint64]*acc, partitions)
	dups := make([]int64, partitions)
	parallel(workers, partitions, func(p int) {
		parts[p], dups[p] = aggregatePartition(blocks, starts, sc, p)
	})
	// Combine each key over the partitions in partition order, keys in
	// parallel, and build its sketch.
	var nd int64
	keySet := map[uint64]struct{}{}
	for p := 0; p < partitions; p++ {
		nd += dups[p]
		for k := range parts[p] {
			keySet[k] = struct{}{}
		}
	}
	keys := slices.Sorted(maps.Keys(keySet))
	aggs := make([]*agg.Aggregate, len(keys))
	errs := make([]error, len(keys))
	parallel(workers, len(keys), func(i int) {
		var a *acc
		for p := 0; p < partitions; p++ {
			b, ok := parts[p][keys[i]]
			switch {
			case !ok:
			case a == nil:
				a = b
			default:
				if err := a.merge(b); err != nil {
					errs[i] = fmt.Errorf("merging partition sketches: %w", err)
					return
				}
			}
		}
		aggs[i] = a.aggregate()
	})
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	out := make(agg.Table, len(keys))
	for i, k := range keys {
		win, typ, src := unpackKey(k)
		out[agg.Key{WindowStart: windowTime(win), EventType: st.types.name(typ), Source: st.sources.name(src)}] = aggs[i]
	}
	return out, nd, nil
}

// parallel runs f(0..n-1) on up to workers goroutines.
func parallel(workers, n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < max(1, min(workers, n)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
}

// dedupTable is an open-addressing set of (hour, event_id) keyed by the
// event_id fingerprint (already a uniform hash). A slot holds the
// fingerprint and the event's global row; on a fingerprint match the hours
// and the event_ids themselves are compared, so the dedup is exact.
type dedupTable struct {
	slots []dedupSlot
	mask  uint64
	used  int
}

type dedupSlot struct {
	fp  uint64
	ref uint32 // global row + 1; 0 means empty
}

func newDedupTable(expect int) *dedupTable {
	size := 64
	for size*3 < expect*4 {
		size <<= 1
	}
	return &dedupTable{slots: make([]dedupSlot, size), mask: uint64(size - 1)}
}

func (t *dedupTable) grow() {
	old := t.slots
	t.slots = make([]dedupSlot, len(old)*2)
	t.mask = uint64(len(t.slots) - 1)
	for _, e := range old {
		if e.ref == 0 {
			continue
		}
		slot := e.fp & t.mask
		for t.slots[slot].ref != 0 {
			slot = (slot + 1) & t.mask
		}
		t.slots[slot] = e
	}
}

// locate finds the block and row of a global row.
func locate(starts []int, g int) (int, int) {
	bi := sort.SearchInts(starts, g+1) - 1
	return bi, g - starts[bi]
}

func aggregatePartition(blocks []*block, starts []int, sc []*scattered, p int) (map[uint64]*acc, int64) {
	n := 0
	for _, c := range sc {
		n += c.off[p+1] - c.off[p]
	}
	dt := newDedupTable(n)
	accs := map[uint64]*acc{}
	var lastKey uint64
	var last *acc
	var dups int64
	for _, c := range sc {
		for _, r := range c.recs[c.off[p]:c.off[p+1]] {
			slot := r.fp & dt.mask
			dup := false
			for {
				e := &dt.slots[slot]
				if e.ref == 0 {
					*e = dedupSlot{fp: r.fp, ref: r.ref + 1}
					dt.used++
					break
				}
				if e.fp == r.fp {
					ob, oi := locate(starts, int(e.ref-1))
					nb, ni := locate(starts, int(r.ref))
					if blocks[ob].win[oi] == blocks[nb].win[ni] && blocks[ob].id(oi) == blocks[nb].id(ni) {
						dup = true
						break
					}
				}
				slot = (slot + 1) & dt.mask
			}
			if dup {
				dups++
				continue
			}
			if dt.used*4 > len(dt.slots)*3 {
				dt.grow()
			}
			a := last
			if a == nil || r.key != lastKey {
				a = accs[r.key]
				if a == nil {
					a = &acc{}
					accs[r.key] = a
				}
				lastKey, last = r.key, a
			}
			a.add(r.user, r.val)
		}
	}
	return accs, dups
}

// Rows is views.Rows with the rows (sketch encoding and estimate, the
// costly part) made on up to workers goroutines.
func Rows(t agg.Table, workers int) ([]views.Row, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	keys := t.Keys()
	rows := make([]views.Row, len(keys))
	errs := make([]error, len(keys))
	parallel(workers, len(keys), func(i int) { rows[i], errs[i] = views.FromAggregate(keys[i], t[keys[i]]) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return rows, nil
}
