package speed_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// flakyStore fails the first Put of every n-th distinct speed object key.
// Keys are counted once, at their first Put: a key put again (a batch run
// twice, a retry) neither fails nor moves the count, so a retry can fail
// only on keys it is the first to write and, with at most two new keys per
// attempt and n >= 3, no batch fails three attempts in a row whatever hours
// the wall clock puts its events in.
type flakyStore struct {
	storage.Store
	n      int
	mu     sync.Mutex
	seen   int
	keys   map[string]bool // every speed key put so far
	failed map[string]bool
}

func (f *flakyStore) Put(ctx context.Context, key string, data []byte) error {
	f.mu.Lock()
	if f.keys == nil {
		f.keys = map[string]bool{}
	}
	if strings.HasPrefix(key, "speed/") && !f.keys[key] {
		f.keys[key] = true
		f.seen++
		if f.seen%f.n == 0 {
			f.failed[key] = true
			f.mu.Unlock()
			return fmt.Errorf("injected failure writing %s", key)
		}
	}
	f.mu.Unlock()
	return f.Store.Put(ctx, key, data)
}

// twice runs a batch the handler took whole a second time, as Lambda may
// after a timeout: the second run must overwrite, not add.
type twice struct{ h *speed.Handler }

func (t twice) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	resp, err := t.h.Handle(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) > 0 {
		return resp, err
	}
	return t.h.Handle(ctx, ev)
}

// produce puts n events (ids from id0, event times in the 90 minutes from
// base) on the stream, a third packed in KPL aggregates, plus an invalid
// record per 50 events, and returns the number of invalid records.
func produce(t *testing.T, sink streaming.Sink, base time.Time, id0, n int) int {
	t.Helper()
	var recs []streaming.Record
	var a streaming.Aggregator
	invalid := 0
	for i := id0; i < id0+n; i++ {
		e := ev{id: fmt.Sprint("e", i), typ: "view", user: fmt.Sprint("u", i%40), source: "web",
			at: base.Add(time.Duration(i%5400) * time.Second), value: 1}
		r := streaming.Record{PartitionKey: e.user, Data: e.json()}
		if i%3 == 0 {
			a.Add(r)
			if a.Len() == 5 {
				recs = append(recs, streaming.Record{PartitionKey: a.PartitionKey(), Data: a.Bytes()})
				a.Reset()
			}
			continue
		}
		recs = append(recs, r)
		if i%50 == 0 {
			recs = append(recs, streaming.Record{PartitionKey: "bad", Data: []byte(`{"event_id":"x"`)})
			invalid++
		}
	}
	if a.Len() > 0 {
		recs = append(recs, streaming.Record{PartitionKey: a.PartitionKey(), Data: a.Bytes()})
	}
	for len(recs) > 0 {
		k := min(len(recs), 500)
		res, err := sink.PutRecords(context.Background(), recs[:k])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.ErrorCode != "" {
				t.Fatalf("put: %s %s", r.ErrorCode, r.ErrorMessage)
			}
		}
		recs = recs[k:]
	}
	return invalid
}

func TestRunnerFeedsTheHandlerLikeTheEventSourceMapping(t *testing.T) {
	ctx := context.Background()
	stream := streaming.NewMemStream(2)
	stream.Now = func() time.Time { return arrival }
	produce(t, stream, hour10, 0, 600)
	if err := stream.Split("shardId-000000000000"); err != nil {
		t.Fatal(err)
	}
	produce(t, stream, hour10, 600, 400)
	produce(t, stream, hour10, 900, 50) // a producer retry: e900..e949 again

	_, st := newHandler(t)
	flaky := &flakyStore{Store: st, n: 4, failed: map[string]bool{}}
	h := &speed.Handler{Store: flaky, Now: func() time.Time { return arrival }}
	r := &speed.Runner{Source: stream, Handler: twice{h}, Stream: "events", BatchSize: 70, Checkpoints: st}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	stats := r.Stats()
	if stats.Retries == 0 || stats.Batches < 10 {
		t.Fatalf("stats %+v: want several batches and at least one retry", stats)
	}
	tbl, objs := readView(t, st)
	if n, sum := totals(tbl); n != 1000 || sum != 1000 {
		t.Fatalf("%d events (sum %g) in %d objects, want 1000", n, sum, len(objs))
	}
	// Every object names a real shard and sequence numbers.
	for _, o := range objs {
		if !strings.Contains(o.Key, "/shardId-0000000000") {
			t.Errorf("object %s", o.Key)
		}
	}
	// A new runner resumes from the saved checkpoint: nothing to do.
	r2 := &speed.Runner{Source: stream, Handler: h, Stream: "events", BatchSize: 70, Checkpoints: st}
	if err := r2.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if s := r2.Stats(); s.Invocations != 0 {
		t.Fatalf("resumed runner invoked the handler %d times", s.Invocations)
	}
}

// failing always names the first record.
type failing struct{}

func (failing) Handle(_ context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	return events.KinesisEventResponse{BatchItemFailures: []events.KinesisBatchItemFailure{{ItemIdentifier: ev.Records[0].Kinesis.SequenceNumber}}}, nil
}

func TestRunnerStopsOnABatchThatKeepsFailing(t *testing.T) {
	stream := streaming.NewMemStream(1)
	produce(t, stream, hour10, 0, 10)
	r := &speed.Runner{Source: stream, Handler: failing{}, Stream: "events", MaxAttempts: 2}
	err := r.CatchUp(context.Background())
	if err == nil || !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("err %v, want one after 2 attempts", err)
	}
	if s := r.Stats(); s.Invocations != 2 {
		t.Fatalf("%d invocations, want 2", s.Invocations)
	}
}
