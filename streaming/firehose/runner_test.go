package firehose_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/firehose"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

func produce(t *testing.T, sink streaming.Sink, recs, users []string, aggregate bool) {
	t.Helper()
	ctx := context.Background()
	p, err := streaming.NewProducer(ctx, sink, streaming.ProducerConfig{Aggregate: aggregate, Linger: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if err := p.Put(ctx, streaming.Record{PartitionKey: users[i], Data: []byte(r)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func newRunner(m streaming.Source, store storage.Store) *firehose.Runner {
	return &firehose.Runner{Source: m, Store: store, Transform: &transform.Handler{}, Stream: "events", BufferBytes: 64 << 10, ReadLimit: 200}
}

func TestRunnerReconcilesAndResumes(t *testing.T) {
	for _, aggregate := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "kpl"}[aggregate]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			m := streaming.NewMemStream(3)
			store, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			recs, users, want := testEvents(3000)
			produce(t, m, recs[:2000], users[:2000], aggregate)
			r1 := newRunner(m, store)
			if err := r1.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			// A second stretch of the stream, read by a new runner that
			// resumes from the saved checkpoint.
			produce(t, m, recs[2000:], users[2000:], aggregate)
			r2 := newRunner(m, store)
			if err := r2.CatchUp(ctx); err != nil {
				t.Fatal(err)
			}
			if r2.Stats().Records != 1000 {
				t.Fatalf("the resumed runner transformed %d records, want the 1000 new ones", r2.Stats().Records)
			}
			got, err := firehose.Count(ctx, store)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("lines per route:\n got %v\nwant %v", got, want)
			}
			objs, _ := store.List(ctx, "")
			for _, o := range objs {
				if !strings.HasPrefix(o.Key, "events/dt=2026-01-01/hour=") && !strings.HasPrefix(o.Key, "errors/") && !strings.HasPrefix(o.Key, "_checkpoints/") {
					t.Fatalf("unexpected object %s", o.Key)
				}
			}
		})
	}
}

// TestRunnerRerunAfterCrashWritesSameObjects loses the checkpoint (a crash
// after the objects were written) and checks the rerun rewrites the same
// object names instead of adding duplicates.
func TestRunnerRerunAfterCrashWritesSameObjects(t *testing.T) {
	ctx := context.Background()
	m := streaming.NewMemStream(2)
	store, _ := storage.NewLocal(t.TempDir())
	recs, users, want := testEvents(1500)
	produce(t, m, recs, users, false)
	if err := newRunner(m, store).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := store.List(ctx, "")
	if err := store.Delete(ctx, newRunner(m, store).CheckpointKey()); err != nil {
		t.Fatal(err)
	}
	if err := newRunner(m, store).CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	after, _ := store.List(ctx, "")
	if len(after) != len(before) {
		t.Fatalf("%d objects before the rerun, %d after", len(before), len(after))
	}
	got, _ := firehose.Count(ctx, store)
	if !maps.Equal(got, want) {
		t.Fatalf("lines per route:\n got %v\nwant %v", got, want)
	}
}

// TestRunnerRunFlushesOnIntervalAndOnStop follows a stream: buffers older
// than BufferInterval are written while it runs, and what was read but not
// written when the context ends is written before Run returns.
func TestRunnerRunFlushesOnIntervalAndOnStop(t *testing.T) {
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	count := func(store storage.Store) map[string]int64 {
		got, err := firehose.Count(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	recs, users, want := testEvents(400)

	t.Run("interval", func(t *testing.T) {
		m := streaming.NewMemStream(2)
		store, _ := storage.NewLocal(t.TempDir())
		r := newRunner(m, store)
		r.BufferBytes, r.BufferInterval, r.Poll = 1<<30, 20*time.Millisecond, 5*time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		produce(t, m, recs[:200], users[:200], false)
		waitFor("the first half in the store", func() bool { return r.Stats().Records == 200 && len(count(store)) > 0 })
		produce(t, m, recs[200:], users[200:], false)
		waitFor("everything in the store", func() bool { return maps.Equal(count(store), want) })
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Run: %v", err)
		}
	})
	t.Run("stop", func(t *testing.T) {
		m := streaming.NewMemStream(2)
		store, _ := storage.NewLocal(t.TempDir())
		r := newRunner(m, store)
		r.BufferBytes, r.BufferInterval, r.Poll = 1<<30, time.Hour, 5*time.Millisecond
		produce(t, m, recs, users, false)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		waitFor("every record read", func() bool { return r.Stats().Records == 400 })
		if got := count(store); len(got) != 0 {
			t.Fatalf("written before the interval: %v", got)
		}
		cancel()
		if err := <-done; err != context.Canceled {
			t.Fatalf("Run: %v", err)
		}
		if got := count(store); !maps.Equal(got, want) {
			t.Fatalf("lines per route:\n got %v\nwant %v", got, want)
		}
	})
}
