package streaming

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lambdastack/lambdastack/internal/wait"
)

// Kinesis limits the producer respects.
const (
	MaxBatchRecords = 500
	MaxBatchBytes   = 5 << 20
	MaxRecordBytes  = 1 << 20 // data plus partition key
	// DefaultAggregateBytes is the size an aggregated record grows to
	// before it is sent (the KPL's default AggregationMaxSize).
	DefaultAggregateBytes = 50 << 10
)

// ErrRecordTooLarge is returned by Put for a record over MaxRecordBytes.
var ErrRecordTooLarge = errors.New("record is larger than 1 MiB (data plus partition key)")

// ErrClosed is returned by Put after Close.
var ErrClosed = errors.New("producer is closed")

// ErrPermanent marks a Sink error that retrying cannot fix (no such stream,
// access denied, a malformed request): the producer gives the batch up at
// once instead of backing off.
var ErrPermanent = errors.New("permanent stream error")

// ProducerConfig tunes a Producer. Zero values take the defaults.
type ProducerConfig struct {
	// Buffer is how many records may wait to be batched (default 10000);
	// with the batches being assembled and sent, at most
	// Buffer + (Senders+2)*500 records are held.
	// Put blocks while it is full: a slow stream slows the caller.
	Buffer int
	// Linger is how long a partial batch waits for more records
	// (default 50ms).
	Linger time.Duration
	// Senders is how many PutRecords calls run at once (default 4).
	Senders int
	// MaxRetries bounds how often one record is retried (default 10).
	MaxRetries int
	// Backoff is the first retry delay (default 100ms), doubled per
	// attempt with full jitter up to MaxBackoff (default 10s).
	Backoff, MaxBackoff time.Duration
	// Aggregate packs small records into KPL aggregated records of up to
	// AggregateBytes (default DefaultAggregateBytes), grouped by the
	// shard their partition keys hash to when the sink can list shards.
	Aggregate      bool
	AggregateBytes int
	// OnFailure is called (from a sender goroutine) for every record
	// that still failed after the retries, with the last error.
	OnFailure func(r Record, err error)
	// Sleep waits for d or until ctx is done; nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// ProducerStats counts what a Producer did. Records and Bytes are user
// records acknowledged by the stream.
type ProducerStats struct {
	Records    int64 // user records written
	Bytes      int64 // their data bytes
	Puts       int64 // stream records written (fewer than Records when aggregating)
	Retries    int64 // stream records sent again
	Throttled  int64 // stream records the stream throttled
	Failed     int64 // user records given up on
	InFlight   int64 // user records put but not yet acknowledged
	Aggregated int64 // user records sent inside aggregated records
}

// Producer sends records to a Sink in batches (at most 500 records and
// 5 MiB per call), retries only the entries that failed, with exponential
// backoff and jitter, slows down when the stream throttles, and reports
// what still fails. It is safe for concurrent use.
//
// Shutdown: Close closes stop (a Put waiting for buffer space returns
// ErrClosed), then marks the producer closed under putMu, so no Put sends on
// in any more, then closes quit: the batcher drains in, hands the last
// batches over and closes batches, its own channel; the senders end when it
// is closed. in is never closed, so a Put racing Close cannot send on a
// closed channel. The senders call the stream under ctx, which Close cancels
// when its own context ends: retries and backoff stop, and what was not
// written is reported as failed.
type Producer struct {
	sink Sink
	cfg  ProducerConfig

	in      chan Record
	flushCh chan chan struct{}
	batches chan []entry
	wg      sync.WaitGroup
	shards  []hashRange // for grouping aggregated records by shard

	ctx    context.Context // the senders'; cancelled by Close
	cancel context.CancelFunc

	putMu     sync.RWMutex // held shared by Put while it may send on in
	closed    bool         // under putMu
	stop      chan struct{}
	quit      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	idle    *sync.Cond // broadcast when pending drops
	pending int64
	lastErr error

	delay atomic.Int64 // extra wait before each call while throttled (ns)

	records, bytes, puts, retries, throttled, failed, aggregated atomic.Int64
}

type hashRange struct{ start, end u128 }

// shardLister is implemented by sinks that can tell the shard hash ranges
// (MemStream, or a caller's combined Kinesis sink and source).
type shardLister interface {
	Shards(ctx context.Context) ([]Shard, error)
}

// entry is one stream record and the user records it carries.
type entry struct {
	rec   Record
	users []Record
}

func (e entry) size() int { return len(e.rec.Data) + len(e.rec.PartitionKey) }

// NewProducer starts a producer. Call Close to flush and stop it.
func NewProducer(ctx context.Context, sink Sink, cfg ProducerConfig) (*Producer, error) {
	if cfg.Buffer <= 0 {
		cfg.Buffer = 10000
	}
	if cfg.Linger <= 0 {
		cfg.Linger = 50 * time.Millisecond
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 4
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 10
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.AggregateBytes <= 0 || cfg.AggregateBytes > MaxRecordBytes-256 {
		cfg.AggregateBytes = DefaultAggregateBytes
	}
	if cfg.Sleep == nil {
		cfg.Sleep = wait.Sleep
	}
	p := &Producer{sink: sink, cfg: cfg, in: make(chan Record, cfg.Buffer),
		flushCh: make(chan chan struct{}), batches: make(chan []entry, cfg.Senders),
		stop: make(chan struct{}), quit: make(chan struct{})}
	p.idle = sync.NewCond(&p.mu)
	if cfg.Aggregate {
		if l, ok := sink.(shardLister); ok {
			shards, err := l.Shards(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing shards to group aggregated records: %w", err)
			}
			p.shards = openRanges(shards)
		}
	}
	// The senders outlive NewProducer's ctx (it bounds the set-up); Close
	// ends them.
	p.ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	p.wg.Add(1 + cfg.Senders)
	go p.batcher()
	for range cfg.Senders {
		go p.sender()
	}
	return p, nil
}

// openRanges returns the hash ranges of shards that have no children.
func openRanges(shards []Shard) []hashRange {
	parent := map[string]bool{}
	for _, s := range shards {
		for _, p := range s.Parents {
			parent[p] = true
		}
	}
	var out []hashRange
	for _, s := range shards {
		if parent[s.ID] {
			continue
		}
		a, ok1 := parseU128(s.HashStart)
		b, ok2 := parseU128(s.HashEnd)
		if ok1 && ok2 {
			out = append(out, hashRange{a, b})
		}
	}
	return out
}

// Put queues one record, blocking while the buffer is full. It returns
// ctx's error if ctx ends first, ErrRecordTooLarge, or ErrClosed.
func (p *Producer) Put(ctx context.Context, r Record) error {
	if len(r.Data)+len(r.PartitionKey) > MaxRecordBytes {
		return fmt.Errorf("putting a record of %d bytes: %w", len(r.Data)+len(r.PartitionKey), ErrRecordTooLarge)
	}
	if r.PartitionKey == "" {
		return errors.New("putting a record: empty partition key")
	}
	p.putMu.RLock()
	defer p.putMu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	p.mu.Lock()
	p.pending++
	p.mu.Unlock()
	select {
	case p.in <- r:
		return nil
	case <-ctx.Done():
		p.done(1)
		return ctx.Err()
	case <-p.stop:
		p.done(1)
		return ErrClosed
	}
}

// Flush sends every record put so far and waits until each is written or
// given up on. It returns ctx's error if ctx ends first.
func (p *Producer) Flush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case p.flushCh <- ack:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.quit:
		return ErrClosed
	}
	select {
	case <-ack:
	case <-ctx.Done():
		return ctx.Err()
	}
	waitDone := make(chan struct{})
	go func() {
		p.mu.Lock()
		for p.pending > 0 && ctx.Err() == nil {
			p.idle.Wait()
		}
		p.mu.Unlock()
		close(waitDone)
	}()
	select {
	case <-waitDone:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		p.idle.Broadcast() // let the waiter see ctx is done
		p.mu.Unlock()
		return ctx.Err()
	}
}

// Close flushes and stops the producer; Put returns ErrClosed from then
// on. When ctx ends first, the senders stop at once and the records not yet
// written count as failed. It returns an error naming how many records
// failed for good and the last failure (ctx's error when ctx ended first),
// or nil when every record Put accepted was written, even if ctx ended
// while the last ones were. Calling it again returns the same summary.
func (p *Producer) Close(ctx context.Context) error {
	err := p.Flush(ctx)
	if errors.Is(err, ErrClosed) {
		err = nil // closed before: the summary below still holds
	}
	if err != nil {
		p.cancel()
	}
	p.closeOnce.Do(func() {
		close(p.stop)
		p.putMu.Lock()
		p.closed = true
		p.putMu.Unlock()
		close(p.quit)
	})
	stopped := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		p.cancel()
		<-stopped
		if err == nil {
			err = ctx.Err()
		}
	}
	p.cancel()
	if err != nil && p.failed.Load() == 0 {
		// ctx ended while the last records were being written, and each of
		// them was: nothing is lost, so Close has nothing to report.
		err = nil
	}
	if err != nil {
		return fmt.Errorf("closing the producer: %w (%d records not written)", err, p.failed.Load())
	}
	if n := p.failed.Load(); n > 0 {
		p.mu.Lock()
		last := p.lastErr
		p.mu.Unlock()
		return fmt.Errorf("%d records not written (retried up to %d times unless the error was permanent); last error: %w", n, p.cfg.MaxRetries, last)
	}
	return nil
}

// Stats returns the counters so far.
func (p *Producer) Stats() ProducerStats {
	p.mu.Lock()
	pending := p.pending
	p.mu.Unlock()
	return ProducerStats{Records: p.records.Load(), Bytes: p.bytes.Load(), Puts: p.puts.Load(), Retries: p.retries.Load(),
		Throttled: p.throttled.Load(), Failed: p.failed.Load(), InFlight: pending, Aggregated: p.aggregated.Load()}
}

func (p *Producer) done(n int) {
	p.mu.Lock()
	p.pending -= int64(n)
	p.idle.Broadcast()
	p.mu.Unlock()
}

// batcher groups records into batches and hands them to the senders.
func (p *Producer) batcher() {
	defer p.wg.Done()
	defer close(p.batches)
	var (
		batch []entry
		bytes int
		aggs  = map[int]*Aggregator{}
		users = map[int][]Record{}
		timer = time.NewTimer(time.Hour)
		armed bool // the timer runs for records waiting in batch or aggs
	)
	timer.Stop()
	arm := func() {
		if !armed {
			timer.Reset(p.cfg.Linger)
			armed = true
		}
	}
	emit := func() {
		if len(batch) > 0 {
			p.batches <- batch
			batch, bytes = nil, 0
		}
	}
	add := func(e entry) {
		if len(batch)+1 > MaxBatchRecords || bytes+e.size() > MaxBatchBytes {
			emit()
		}
		arm()
		batch = append(batch, e)
		bytes += e.size()
	}
	closeAgg := func(g int) {
		a := aggs[g]
		if a == nil || a.Len() == 0 {
			return
		}
		u := users[g]
		if a.Len() == 1 { // one record gains nothing from the envelope
			add(entry{rec: u[0], users: u})
		} else {
			add(entry{rec: Record{PartitionKey: a.PartitionKey(), Data: a.Bytes()}, users: u})
		}
		a.Reset()
		users[g] = nil
	}
	flushAll := func() {
		for g := range aggs {
			closeAgg(g)
		}
		emit()
	}
	take := func(r Record) {
		if !p.cfg.Aggregate || len(r.Data)+len(r.PartitionKey)+64 > p.cfg.AggregateBytes {
			add(entry{rec: r, users: []Record{r}})
			return
		}
		g := p.group(r)
		a := aggs[g]
		if a == nil {
			a = &Aggregator{}
			aggs[g] = a
		}
		if a.Len() > 0 && a.SizeWith(r)+len(a.PartitionKey()) > p.cfg.AggregateBytes {
			closeAgg(g)
		}
		a.Add(r)
		users[g] = append(users[g], r)
		arm()
	}
	for {
		select {
		case r := <-p.in:
			take(r)
		case <-p.quit:
			// No Put sends any more: take what is buffered, then stop.
			for {
				select {
				case r := <-p.in:
					take(r)
				default:
					flushAll()
					timer.Stop()
					return
				}
			}
		case <-timer.C:
			armed = false
			flushAll()
			if armed { // flushAll's adds re-armed it for nothing
				timer.Stop()
				armed = false
			}
		case ack := <-p.flushCh:
			flushAll()
			timer.Stop()
			armed = false
			close(ack)
		}
	}
}

// group is the index of the shard r's partition key hashes to, or 0.
func (p *Producer) group(r Record) int {
	if len(p.shards) == 0 {
		return 0
	}
	h := HashKey(r.PartitionKey)
	if r.ExplicitHashKey != "" {
		if v, ok := parseU128(r.ExplicitHashKey); ok {
			h = v
		}
	}
	for i, s := range p.shards {
		if !h.less(s.start) && !s.end.less(h) {
			return i
		}
	}
	return 0
}

func (p *Producer) sender() {
	defer p.wg.Done()
	for b := range p.batches {
		p.send(b)
	}
}

// send writes one batch, retrying the failed entries. Calls and retries
// run under the producer's context, not a caller's: Flush's deadline does
// not cut a call in half, and the retry bound or Close ends them.
func (p *Producer) send(batch []entry) {
	ctx := p.ctx
	var lastErr error
	for attempt := 0; len(batch) > 0; attempt++ {
		if attempt > p.cfg.MaxRetries {
			p.giveUp(batch, lastErr)
			return
		}
		if attempt > 0 {
			p.retries.Add(int64(len(batch)))
			_ = p.cfg.Sleep(ctx, p.backoff(attempt))
		}
		if d := time.Duration(p.delay.Load()); d > 0 {
			_ = p.cfg.Sleep(ctx, d)
		}
		if ctx.Err() != nil {
			p.giveUp(batch, fmt.Errorf("the producer was closed before the records were written: %w", ctx.Err()))
			return
		}
		recs := make([]Record, len(batch))
		for i, e := range batch {
			recs[i] = e.rec
		}
		res, err := p.sink.PutRecords(ctx, recs)
		if err != nil {
			lastErr = err
			if errors.Is(err, ErrPermanent) {
				p.giveUp(batch, err)
				return
			}
			continue
		}
		var failed []entry
		throttled := 0
		for i, r := range res {
			e := batch[i]
			if r.ErrorCode == "" {
				p.ok(e)
				continue
			}
			if r.Throttled {
				throttled++
			}
			lastErr = fmt.Errorf("%s: %s", r.ErrorCode, r.ErrorMessage)
			failed = append(failed, e)
		}
		p.throttled.Add(int64(throttled))
		p.adjustDelay(throttled > 0)
		batch = failed
	}
}

func (p *Producer) ok(e entry) {
	p.puts.Add(1)
	p.records.Add(int64(len(e.users)))
	if len(e.users) > 1 {
		p.aggregated.Add(int64(len(e.users)))
	}
	n := 0
	for _, u := range e.users {
		n += len(u.Data)
	}
	p.bytes.Add(int64(n))
	p.done(len(e.users))
}

func (p *Producer) giveUp(batch []entry, err error) {
	if err == nil {
		err = errors.New("no attempt succeeded")
	}
	n := 0
	for _, e := range batch {
		for _, u := range e.users {
			if p.cfg.OnFailure != nil {
				p.cfg.OnFailure(u, err)
			}
		}
		n += len(e.users)
	}
	p.failed.Add(int64(n))
	p.mu.Lock()
	p.lastErr = err
	p.mu.Unlock()
	p.done(n)
}

// backoff is the delay before retry attempt (1, 2, …): full jitter over an
// exponentially growing cap.
func (p *Producer) backoff(attempt int) time.Duration {
	d := p.cfg.Backoff << min(attempt-1, 20)
	if d > p.cfg.MaxBackoff || d <= 0 {
		d = p.cfg.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

// adjustDelay slows every sender while the stream throttles: the delay
// doubles on a throttled call (from 50ms, up to 2s) and halves on a clean
// one.
func (p *Producer) adjustDelay(throttled bool) {
	for {
		old := p.delay.Load()
		var next int64
		if throttled {
			next = max(old*2, int64(50*time.Millisecond))
			next = min(next, int64(2*time.Second))
		} else if old > int64(10*time.Millisecond) {
			next = old / 2
		}
		if p.delay.CompareAndSwap(old, next) {
			return
		}
	}
}
