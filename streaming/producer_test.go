package streaming

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSink records calls; fail decides per record and attempt whether it
// fails (error code) and whether that is a throttle.
type fakeSink struct {
	mu       sync.Mutex
	calls    [][]Record
	attempts map[string]int
	written  map[string]int
	fail     func(data string, attempt int) (code string)
	block    chan struct{} // when set, calls wait for it
}

func (f *fakeSink) PutRecords(ctx context.Context, recs []Record) ([]PutResult, error) {
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attempts == nil {
		f.attempts, f.written = map[string]int{}, map[string]int{}
	}
	f.calls = append(f.calls, recs)
	out := make([]PutResult, len(recs))
	for i, r := range recs {
		d := string(r.Data)
		f.attempts[d]++
		if f.fail != nil {
			if code := f.fail(d, f.attempts[d]); code != "" {
				out[i] = PutResult{ErrorCode: code, ErrorMessage: "injected", Throttled: code == "ProvisionedThroughputExceededException"}
				continue
			}
		}
		f.written[d]++
		out[i] = PutResult{ShardID: "shardId-0", SequenceNumber: fmt.Sprint(len(f.calls))}
	}
	return out, nil
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestProducerBatchesAndRetriesOnlyFailed(t *testing.T) {
	ctx := context.Background()
	sink := &fakeSink{fail: func(d string, attempt int) string {
		var n int
		fmt.Sscan(strings.TrimPrefix(d, "r"), &n)
		switch {
		case n%3 == 0 && attempt == 1:
			return "InternalFailure"
		case n%5 == 0 && attempt <= 2:
			return "ProvisionedThroughputExceededException"
		}
		return ""
	}}
	p, err := NewProducer(ctx, sink, ProducerConfig{Sleep: noSleep, Senders: 2})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	for i := range n {
		if err := p.Put(ctx, Record{PartitionKey: "k", Data: []byte(fmt.Sprintf("r%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range sink.calls {
		if len(c) > MaxBatchRecords {
			t.Fatalf("a call carried %d records", len(c))
		}
	}
	if len(sink.written) != n {
		t.Fatalf("%d records written, want %d", len(sink.written), n)
	}
	for d, c := range sink.written {
		if c != 1 {
			t.Fatalf("%s written %d times: a successful entry was resent", d, c)
		}
	}
	st := p.Stats()
	if st.Records != n || st.Failed != 0 || st.Throttled == 0 || st.Retries == 0 || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProducerBatchBytesLimit(t *testing.T) {
	ctx := context.Background()
	sink := &fakeSink{}
	p, _ := NewProducer(ctx, sink, ProducerConfig{Sleep: noSleep, Senders: 1})
	big := strings.Repeat("x", 900<<10)
	for i := range 12 {
		if err := p.Put(ctx, Record{PartitionKey: "k", Data: []byte(fmt.Sprint(i, big))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Put(ctx, Record{PartitionKey: "k", Data: make([]byte, MaxRecordBytes)}); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("oversized record: %v", err)
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range sink.calls {
		size := 0
		for _, r := range c {
			size += len(r.Data) + len(r.PartitionKey)
		}
		if size > MaxBatchBytes {
			t.Fatalf("a call carried %d bytes", size)
		}
	}
	if len(sink.written) != 12 {
		t.Fatalf("written %d", len(sink.written))
	}
}

func TestProducerReportsWhatStillFails(t *testing.T) {
	ctx := context.Background()
	sink := &fakeSink{fail: func(d string, _ int) string {
		if d == "poison" {
			return "InternalFailure"
		}
		return ""
	}}
	var mu sync.Mutex
	var failed []string
	p, _ := NewProducer(ctx, sink, ProducerConfig{Sleep: noSleep, MaxRetries: 3, OnFailure: func(r Record, err error) {
		mu.Lock()
		failed = append(failed, string(r.Data)+": "+err.Error())
		mu.Unlock()
	}})
	for _, d := range []string{"a", "poison", "b"} {
		if err := p.Put(ctx, Record{PartitionKey: "k", Data: []byte(d)}); err != nil {
			t.Fatal(err)
		}
	}
	err := p.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 records not written") {
		t.Fatalf("Close: %v", err)
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "poison: InternalFailure") || sink.attempts["poison"] != 4 {
		t.Fatalf("failures %v, attempts %d", failed, sink.attempts["poison"])
	}
	if st := p.Stats(); st.Records != 2 || st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestProducerPutBlocksWhenBufferFull(t *testing.T) {
	ctx := context.Background()
	sink := &fakeSink{block: make(chan struct{})}
	p, _ := NewProducer(ctx, sink, ProducerConfig{Sleep: noSleep, Buffer: 10, Senders: 1, Linger: time.Millisecond})
	// The sender holds one batch, the batch channel one more, the batcher
	// one record, the buffer 10: a bounded number of Puts succeed.
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	accepted := 0
	var err error
	for i := 0; i < 100000; i++ {
		if err = p.Put(tctx, Record{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}); err != nil {
			break
		}
		accepted++
	}
	if !errors.Is(err, context.DeadlineExceeded) || accepted > 10+3*MaxBatchRecords+1 {
		t.Fatalf("Put accepted %d records and returned %v; want it to block", accepted, err)
	}
	close(sink.block)
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if len(sink.written) != accepted {
		t.Fatalf("written %d, accepted %d", len(sink.written), accepted)
	}
}

func TestProducerAggregatesPerShard(t *testing.T) {
	ctx := context.Background()
	m := NewMemStream(4)
	p, err := NewProducer(ctx, m, ProducerConfig{Sleep: noSleep, Aggregate: true, AggregateBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	for i := range n {
		if err := p.Put(ctx, Record{PartitionKey: fmt.Sprintf("user-%d", i%50), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	st := p.Stats()
	if st.Records != n || st.Puts >= n/10 {
		t.Fatalf("stats %+v: want far fewer puts than records", st)
	}
	shards, _ := m.Shards(ctx)
	got := 0
	for _, s := range shards {
		b, _ := m.ReadShard(ctx, s.ID, "", 0)
		for _, r := range b.Records {
			users, agg, err := Deaggregate(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !agg {
				users = []Record{{PartitionKey: r.PartitionKey, Data: r.Data}}
			}
			for _, u := range users {
				got++
				if owner, _ := m.PutRecords(ctx, []Record{{PartitionKey: u.PartitionKey, Data: []byte("probe")}}); owner[0].ShardID != s.ID {
					t.Fatalf("user record of key %s in shard %s, its key hashes to %s", u.PartitionKey, s.ID, owner[0].ShardID)
				}
			}
		}
	}
	if got != n {
		t.Fatalf("de-aggregated %d records, want %d", got, n)
	}
}

// permanentSink fails every call with a permanent error.
type permanentSink struct{ sent int }

func (s *permanentSink) PutRecords(_ context.Context, recs []Record) ([]PutResult, error) {
	s.sent += len(recs)
	return nil, fmt.Errorf("putting: %w: no such stream", ErrPermanent)
}

func TestProducerGivesUpAtOnceOnPermanentErrors(t *testing.T) {
	ctx := context.Background()
	sink := &permanentSink{}
	slept := 0
	p, _ := NewProducer(ctx, sink, ProducerConfig{Senders: 1, Sleep: func(context.Context, time.Duration) error { slept++; return nil }})
	for i := range 10 {
		if err := p.Put(ctx, Record{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	err := p.Close(ctx)
	// Each record tried once, no backoff.
	if !errors.Is(err, ErrPermanent) || sink.sent != 10 || slept != 0 || p.Stats().Failed != 10 {
		t.Fatalf("Close: %v; %d records sent, %d sleeps, stats %+v", err, sink.sent, slept, p.Stats())
	}
}

// Put racing Close never panics and never loses a record: every record
// Put accepted is written or counted as failed, Close returns soon after its
// context ends even while the stream is slow, and a Put after Close returns
// ErrClosed. Run it under -race.
func TestProducerPutRacingClose(t *testing.T) {
	for trial := range 20 {
		slow := make(chan struct{}) // never closed: the stream hangs until its call's context ends
		var sink Sink = &fakeSink{}
		if trial%2 == 1 {
			sink = &fakeSink{block: slow}
		}
		p, err := NewProducer(context.Background(), sink, ProducerConfig{Buffer: 64, Linger: time.Millisecond, Senders: 2, Sleep: noSleep})
		if err != nil {
			t.Fatal(err)
		}
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					err := p.Put(context.Background(), Record{PartitionKey: "k", Data: []byte(fmt.Sprintf("r%d-%d", g, i))})
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						t.Errorf("Put: %v", err)
						return
					}
					accepted.Add(1)
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		closeErr := p.Close(ctx)
		took := time.Since(start)
		cancel()
		wg.Wait()
		if took > 2*time.Second {
			t.Fatalf("trial %d: Close took %s with a 50ms context", trial, took)
		}
		st := p.Stats()
		if st.InFlight != 0 || st.Records+st.Failed != accepted.Load() {
			t.Fatalf("trial %d: %d accepted, %d written, %d failed, %d in flight", trial, accepted.Load(), st.Records, st.Failed, st.InFlight)
		}
		if (st.Failed > 0) != (closeErr != nil) {
			t.Fatalf("trial %d: %d failed, Close returned %v", trial, st.Failed, closeErr)
		}
		if trial%2 == 1 && (st.Failed == 0 || !errors.Is(closeErr, context.DeadlineExceeded)) {
			t.Fatalf("trial %d: a hanging stream: %d failed, Close returned %v, want the deadline", trial, st.Failed, closeErr)
		}
		if err := p.Put(context.Background(), Record{PartitionKey: "k", Data: []byte("late")}); !errors.Is(err, ErrClosed) {
			t.Fatalf("Put after Close: %v, want ErrClosed", err)
		}
		if err2 := p.Close(context.Background()); (err2 == nil) != (closeErr == nil) {
			t.Fatalf("second Close: %v, first %v", err2, closeErr)
		}
	}
}

// lateSink writes every record, but only after its wait has passed, and
// pays no heed to the call's context, as a stream does whose reply is
// already on the way.
type lateSink struct{ wait time.Duration }

func (s lateSink) PutRecords(_ context.Context, recs []Record) ([]PutResult, error) {
	time.Sleep(s.wait)
	out := make([]PutResult, len(recs))
	for i := range out {
		out[i] = PutResult{ShardID: "shardId-0", SequenceNumber: fmt.Sprint(i)}
	}
	return out, nil
}

// Close's context ends while the last records are being written, and each
// of them is written: nothing is lost, so Close returns nil (CI once saw
// "context deadline exceeded (0 records not written)" here under -race).
func TestProducerCloseDeadlineNothingLost(t *testing.T) {
	p, err := NewProducer(context.Background(), lateSink{wait: 100 * time.Millisecond}, ProducerConfig{Linger: time.Millisecond, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := p.Put(context.Background(), Record{PartitionKey: "k", Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err = p.Close(ctx)
	if ctx.Err() == nil {
		t.Fatal("Close returned before its context ended: the test shows nothing")
	}
	if st := p.Stats(); err != nil || st.Records != 3 || st.Failed != 0 || st.InFlight != 0 {
		t.Fatalf("Close: %v; stats %+v, want nil and 3 records written", err, st)
	}
}
