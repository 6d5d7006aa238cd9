package batch

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/storage"
)

var raStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// watchStore records the bodies it hands out, tells opened about each key
// opened, and lets a test make a key's body fail or stall.
type watchStore struct {
	storage.Store
	opened chan string
	mu     sync.Mutex
	open   map[string]int // bodies not closed yet, by key
	// body, when set, wraps the body of key (nil: as stored).
	body func(ctx context.Context, key string, rc io.ReadCloser) io.ReadCloser
}

func (w *watchStore) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := w.Store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if w.body != nil {
		rc = w.body(ctx, key, rc)
	}
	w.mu.Lock()
	w.open[key]++
	w.mu.Unlock()
	select {
	case w.opened <- key:
	default:
	}
	return &watchedBody{ReadCloser: rc, close: func() {
		w.mu.Lock()
		w.open[key]--
		w.mu.Unlock()
	}}, nil
}

// stillOpen lists the keys with a body not closed.
func (w *watchStore) stillOpen() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var keys []string
	for k, n := range w.open {
		if n != 0 {
			keys = append(keys, fmt.Sprintf("%s (%d)", k, n))
		}
	}
	return keys
}

type watchedBody struct {
	io.ReadCloser
	close func()
	once  sync.Once
}

func (b *watchedBody) Close() error {
	b.once.Do(b.close)
	return b.ReadCloser.Close()
}

// failingBody fails every read with err.
type failingBody struct {
	io.ReadCloser
	err error
}

func (f failingBody) Read([]byte) (int, error) { return 0, f.err }

// stallingBody blocks every read until the context of its Get is done, as
// an HTTP body does.
type stallingBody struct {
	io.ReadCloser
	ctx context.Context
}

func (s stallingBody) Read([]byte) (int, error) {
	<-s.ctx.Done()
	return 0, s.ctx.Err()
}

// raHours writes n hours of gzip NDJSON, one object per hour, and returns
// the store and the plan's hours.
func raHours(t *testing.T, n int) (*watchStore, []PlanHour) {
	t.Helper()
	local, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var hours []PlanHour
	for h := 0; h < n; h++ {
		hour := raStart.Add(time.Duration(h) * time.Hour)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		for i := 0; i < 500; i++ {
			et := hour.Add(time.Duration(i) * time.Second)
			e := event.Event{EventID: fmt.Sprintf("e-%d-%d", h, i), EventType: "click", EventTime: et,
				UserID: fmt.Sprintf("u%d", i%40), Source: "web", ReceivedTime: et.Add(time.Second)}
			zw.Write(append(e.AppendJSON(nil), '\n'))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("events/dt=%s/hour=%02d/part-0.gz", hour.Format("2006-01-02"), hour.Hour())
		if err := local.Put(ctx, key, gz.Bytes()); err != nil {
			t.Fatal(err)
		}
		infos, err := local.List(ctx, key)
		if err != nil || len(infos) != 1 {
			t.Fatalf("listing %s: %v %v", key, infos, err)
		}
		hours = append(hours, PlanHour{Hour: hour, Objects: []RawObject{{ObjectInfo: infos[0], Hour: hour}}})
	}
	return &watchStore{Store: local, opened: make(chan string, 16), open: map[string]int{}}, hours
}

// checkStopped fails t unless only hour 0 was handed on, every body is
// closed and the goroutines started since base have ended.
func checkStopped(t *testing.T, ws *watchStore, base int, handed []int) {
	t.Helper()
	if len(handed) != 1 || handed[0] != 0 {
		t.Errorf("hours handed on: %v, want only hour 0", handed)
	}
	if open := ws.stillOpen(); len(open) > 0 {
		t.Errorf("bodies still open after the build returned: %v", open)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after the build returned, %d before", n, base)
	}
}

// TestReadAheadOpensNextHourAndStopsOnError: the Go engine opens the next
// hour's object while an hour's result is being handed on, and an error
// there stops the reader and closes its body, the error unchanged.
func TestReadAheadOpensNextHourAndStopsOnError(t *testing.T) {
	ws, hours := raHours(t, 3)
	base := runtime.NumGoroutine()
	g := &GoEngine{Raw: ws, Workers: 2}
	errStop := errors.New("stop here")
	var handed []int
	err := g.buildHours(context.Background(), hours, func(i int, res *HourResult) error {
		handed = append(handed, i)
		if res.Valid != 500 {
			t.Errorf("hour %d: %d valid events, want 500", i, res.Valid)
		}
		next := hours[1].Objects[0].Key
		for {
			select {
			case k := <-ws.opened:
				if k == next {
					return errStop
				}
			case <-time.After(10 * time.Second):
				t.Errorf("hour 1's object %s not opened while hour 0 was handed on", next)
				return errStop
			}
		}
	})
	if !errors.Is(err, errStop) || err.Error() != errStop.Error() {
		t.Errorf("buildHours returned %v, want the callback's error unchanged", err)
	}
	checkStopped(t, ws, base, handed)
}

// TestReadAheadStopsOnCancel: cancelling the build while the reader waits
// on a body ends the build with the context's error and closes the body.
func TestReadAheadStopsOnCancel(t *testing.T) {
	ws, hours := raHours(t, 3)
	stalled := hours[1].Objects[0].Key
	ws.body = func(ctx context.Context, key string, rc io.ReadCloser) io.ReadCloser {
		if key == stalled {
			return stallingBody{ReadCloser: rc, ctx: ctx}
		}
		return rc
	}
	base := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &GoEngine{Raw: ws, Workers: 2}
	var handed []int
	err := g.buildHours(ctx, hours, func(i int, res *HourResult) error {
		handed = append(handed, i)
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("buildHours returned %v, want context.Canceled", err)
	}
	checkStopped(t, ws, base, handed)
}

// TestReadAheadStoreError: a body failing in the second hour fails the
// build with an error naming the hour and the object; the first hour was
// handed on, the third never is.
func TestReadAheadStoreError(t *testing.T) {
	ws, hours := raHours(t, 3)
	broken := hours[1].Objects[0].Key
	errBroken := errors.New("connection reset")
	ws.body = func(ctx context.Context, key string, rc io.ReadCloser) io.ReadCloser {
		if key == broken {
			return failingBody{ReadCloser: rc, err: errBroken}
		}
		return rc
	}
	base := runtime.NumGoroutine()
	g := &GoEngine{Raw: ws, Workers: 2}
	var handed []int
	err := g.buildHours(context.Background(), hours, func(i int, res *HourResult) error {
		handed = append(handed, i)
		return nil
	})
	if !errors.Is(err, errBroken) {
		t.Fatalf("buildHours returned %v, want the store's error", err)
	}
	for _, want := range []string{"building batch hour 2026-11-20T01", "reading raw object", broken} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	checkStopped(t, ws, base, handed)
}

// endless is an NDJSON object without end, counting the bytes read.
type endless struct {
	n    atomic.Int64
	line []byte
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n+len(e.line) <= len(p) {
		n += copy(p[n:], e.line)
	}
	e.n.Add(int64(n))
	return n, nil
}

func (e *endless) Close() error { return nil }

// TestReadAheadIsBounded: with nothing consuming, the reader stops once it
// holds readAheadBytes, and stop closes the body it has open.
func TestReadAheadIsBounded(t *testing.T) {
	e := &endless{line: []byte(`{"event_id":"e","event_type":"click","event_time":"2026-11-20T00:00:00Z","user_id":"u","source":"web","received_time":"2026-11-20T00:00:01Z"}` + "\n")}
	var closed atomic.Bool
	src := Source{Name: "endless", Open: func(ctx context.Context) (io.ReadCloser, error) {
		return &watchedBody{ReadCloser: e, close: func() { closed.Store(true) }}, nil
	}}
	base := runtime.NumGoroutine()
	ra := startReadAhead(context.Background(), [][]Source{{src}, {src}})
	deadline := time.Now().Add(10 * time.Second)
	for ra.budget.TryAcquire(1) {
		ra.budget.Release(1)
		if time.Now().After(deadline) {
			t.Fatal("the read-ahead budget never filled")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	// What it holds, plus the piece it is filling and its read buffer.
	if n, bound := e.n.Load(), int64(readAheadBytes+ndjsonChunk+2<<20); n > bound {
		t.Errorf("read %d bytes ahead with nothing consuming, bound %d", n, bound)
	}
	ra.stop()
	if !closed.Load() {
		t.Error("stop returned with the body open")
	}
	for h := range ra.ch {
		for range ra.begin(h) {
		}
	}
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("%d goroutines after stop, %d before", n, base)
	}
}

// countingBody is a fixed object counting the bytes read from it.
type countingBody struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c countingBody) Close() error { return nil }

// TestReadAheadWaitsToReadWholeObjects: a Parquet object of the next hour
// is opened ahead but read whole only once its hour begins.
func TestReadAheadWaitsToReadWholeObjects(t *testing.T) {
	obj := append([]byte("PAR1"), make([]byte, 4<<20)...)
	var n [2]atomic.Int64
	src := func(h int) Source {
		return Source{Name: fmt.Sprintf("hour-%d.parquet", h), Size: int64(len(obj)), Open: func(ctx context.Context) (io.ReadCloser, error) {
			return countingBody{r: bytes.NewReader(obj), n: &n[h]}, nil
		}}
	}
	ra := startReadAhead(context.Background(), [][]Source{{src(0)}, {src(1)}})
	defer ra.stop()
	for f := range ra.begin(0) {
		ra.release(f)
		if f.data != nil && len(f.data) != len(obj) {
			t.Errorf("hour 0: %d bytes, want the whole object's %d", len(f.data), len(obj))
		}
	}
	time.Sleep(50 * time.Millisecond)
	if got := n[1].Load(); got >= int64(len(obj)) {
		t.Errorf("hour 1's object read whole (%d bytes) before the hour began", got)
	}
	var whole bool
	for f := range ra.begin(1) {
		ra.release(f)
		whole = whole || len(f.data) == len(obj)
	}
	if !whole {
		t.Error("hour 1's object not read once the hour began")
	}
}
