package batch

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdastack/lambdastack/internal/agg"
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
	// Fetch returns the object's bytes.
	Fetch func(ctx context.Context) ([]byte, error)
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

// Reason codes the batch reader adds to those of the event package.
const (
	ReasonWrongHour   = "wrong_hour" // event_time outside the partition hour it was stored under
	ReasonUnreadable  = "unreadable" // an object that is not NDJSON, gzip or Parquet, or is corrupt
	ReasonMissingCol  = "missing_field"
	ReasonBadType     = "bad_type"
	ReasonBadValue    = "bad_value"
	ReasonInvalidJSON = "invalid_json"
)

// partitions is the fixed number of fingerprint partitions the aggregation
// is split into. It is a constant (not the worker count) so that the order
// in which values are summed, and hence every bit of the output, does not
// depend on the machine.
const partitions = 4

// block is the compact, columnar form of the valid events of one unit of
// input (a Parquet row group or a piece of an NDJSON object).
type block struct {
	fp    []uint64 // fingerprint of event_id
	user  []uint64 // hash of user_id
	val   []float64
	win   []int32  // hour window: hours since the Unix epoch
	typ   []uint32 // interned event_type
	src   []uint32 // interned source
	idEnd []uint32 // end offset of each event_id in ids
	ids   []byte
	rows  int64
	bad   map[string]int64
}

func (b *block) add(fp, user uint64, val float64, win int32, typ, src uint32, id []byte) {
	b.fp = append(b.fp, fp)
	b.user = append(b.user, user)
	b.val = append(b.val, val)
	b.win = append(b.win, win)
	b.typ = append(b.typ, typ)
	b.src = append(b.src, src)
	b.ids = append(b.ids, id...)
	b.idEnd = append(b.idEnd, uint32(len(b.ids)))
}

func (b *block) id(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = b.idEnd[i-1]
	}
	return b.ids[start:b.idEnd[i]]
}

func (b *block) reject(reason string) {
	if b.bad == nil {
		b.bad = map[string]int64{}
	}
	b.bad[reason]++
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
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	st := &runState{types: newInterner(), sources: newInterner(), progress: opt.Progress}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type fetched struct {
		i    int
		data []byte
		err  error
	}
	// Fetch ahead of decoding, in order, so a slow store overlaps with work.
	fetchCh := make(chan fetched, 2)
	go func() {
		defer close(fetchCh)
		for i, s := range sources {
			data, err := s.Fetch(ctx)
			if err != nil {
				err = fmt.Errorf("reading raw object %s: %w", s.Name, err)
			}
			select {
			case fetchCh <- fetched{i, data, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

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
	perSource := make([][]*block, len(sources))
	var fetchErr error
	for f := range fetchCh {
		if f.err != nil {
			fetchErr = f.err
			break
		}
		res.Bytes += int64(len(f.data))
		units, err := split(f.data, sources[f.i])
		if err != nil {
			// Unreadable object: count it, keep going.
			res.Bad[ReasonUnreadable]++
			if st.progress != nil {
				st.progress.note("skipping %s: %v", sources[f.i].Name, err)
			}
			continue
		}
		perSource[f.i] = make([]*block, len(units))
		for k, u := range units {
			select {
			case jobs <- job{u: u, slot: &perSource[f.i][k]}:
			case <-ctx.Done():
			}
		}
		if st.progress != nil {
			st.progress.object(int64(len(f.data)))
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
	for _, bs := range perSource {
		for _, b := range bs {
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

// dedupEntry is one slot of a partition's open-addressing dedup table.
type dedupEntry struct {
	fp  uint64
	win int32
	blk uint32 // block index + 1; 0 means empty
	row uint32
}

type accKey struct {
	win      int32
	typ, src uint32
}

// aggregateBlocks deduplicates by (hour, event_id) and aggregates. Events
// are split into fixed partitions by fingerprint; each partition dedups on
// its own (an event_id always lands in the same partition), and the
// partition tables are merged in order at the end.
func aggregateBlocks(blocks []*block, workers int, st *runState) (agg.Table, int64, error) {
	var total int
	for _, b := range blocks {
		total += len(b.fp)
	}
	tables := make([]map[accKey]*agg.Aggregate, partitions)
	dups := make([]int64, partitions)
	var next atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < min(workers, partitions); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p := int(next.Add(1) - 1)
				if p >= partitions {
					return
				}
				tables[p], dups[p] = aggregatePartition(blocks, uint64(p), total/partitions)
			}
		}()
	}
	wg.Wait()
	out := agg.Table{}
	var nd int64
	for p := 0; p < partitions; p++ {
		nd += dups[p]
		part := make(agg.Table, len(tables[p]))
		for k, a := range tables[p] {
			part[agg.Key{WindowStart: windowTime(k.win), EventType: st.types.name(k.typ), Source: st.sources.name(k.src)}] = a
		}
		if p == 0 {
			out = part
			continue
		}
		for _, k := range part.Keys() {
			if a, ok := out[k]; ok {
				if err := a.Merge(part[k]); err != nil {
					return nil, 0, fmt.Errorf("merging partition aggregates of %v: %w", k, err)
				}
			} else {
				out[k] = part[k]
			}
		}
	}
	return out, nd, nil
}

func aggregatePartition(blocks []*block, p uint64, expect int) (map[accKey]*agg.Aggregate, int64) {
	size := 1024
	for size < expect*2 {
		size <<= 1
	}
	table := make([]dedupEntry, size)
	mask := uint64(size - 1)
	used := 0
	accs := map[accKey]*agg.Aggregate{}
	var lastKey accKey
	var last *agg.Aggregate
	var dups int64
	for bi, b := range blocks {
		fps := b.fp
		for i, fp := range fps {
			if fp>>62 != p {
				continue
			}
			win := b.win[i]
			slot := fp & mask
			dup := false
			for {
				e := &table[slot]
				if e.blk == 0 {
					*e = dedupEntry{fp: fp, win: win, blk: uint32(bi + 1), row: uint32(i)}
					used++
					break
				}
				if e.fp == fp && e.win == win && bytes.Equal(blocks[e.blk-1].id(int(e.row)), b.id(i)) {
					dup = true
					break
				}
				slot = (slot + 1) & mask
			}
			if dup {
				dups++
				continue
			}
			if used*4 > size*3 {
				table, mask = grow(table)
				size = len(table)
			}
			k := accKey{win: win, typ: b.typ[i], src: b.src[i]}
			a := last
			if a == nil || k != lastKey {
				a = accs[k]
				if a == nil {
					a = agg.New(false)
					accs[k] = a
				}
				lastKey, last = k, a
			}
			a.Add(fp, b.user[i], b.val[i])
		}
	}
	return accs, dups
}

func grow(old []dedupEntry) ([]dedupEntry, uint64) {
	table := make([]dedupEntry, len(old)*2)
	mask := uint64(len(table) - 1)
	for _, e := range old {
		if e.blk == 0 {
			continue
		}
		slot := e.fp & mask
		for table[slot].blk != 0 {
			slot = (slot + 1) & mask
		}
		table[slot] = e
	}
	return table, mask
}

// validEventType reports whether v matches ^[a-z][a-z0-9_.-]{0,63}$, the
// event contract's rule.
func validEventType(v string) bool {
	if len(v) == 0 || len(v) > 64 || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
