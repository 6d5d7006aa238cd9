package batch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/internal/views"
)

// raceStore holds the first two conditional puts (the two runs' claims)
// until both have arrived, so both runs read the manifest before either
// commits: the race the commit protocol must settle.
type raceStore struct {
	storage.Versioned
	mu      sync.Mutex
	calls   int
	arrived chan struct{}
}

func newRaceStore(s storage.Versioned) *raceStore {
	return &raceStore{Versioned: s, arrived: make(chan struct{})}
}

func (r *raceStore) PutIf(ctx context.Context, key string, data []byte, version string) (string, error) {
	r.mu.Lock()
	r.calls++
	n := r.calls
	if n == 2 {
		close(r.arrived)
	}
	r.mu.Unlock()
	if n <= 2 {
		select {
		case <-r.arrived:
		case <-time.After(30 * time.Second):
			return "", fmt.Errorf("the other run never reached its claim")
		}
	}
	return r.Versioned.PutIf(ctx, key, data, version)
}

// storeState is everything a store holds, comparable across stores: view
// objects as decoded rows, manifests by what they commit (not by run id or
// time), and the keys of everything else (staged leftovers would show).
func storeState(t *testing.T, s storage.Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	infos, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for _, o := range infos {
		data, err := storage.ReadAll(ctx, s, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case strings.HasSuffix(o.Key, "_manifest.json"):
			var m storage.Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatalf("decoding %s: %v", o.Key, err)
			}
			var keys []string
			for _, obj := range m.Objects {
				keys = append(keys, obj.Key)
			}
			out[o.Key] = fmt.Sprintf("objects %v meta %s pending %v", keys, m.Meta, m.Pending != nil)
		case strings.HasSuffix(o.Key, ".parquet") && !strings.HasPrefix(o.Key, "speed/"):
			rows, err := views.Decode(ctx, data)
			if err != nil {
				t.Fatalf("decoding %s: %v", o.Key, err)
			}
			out[o.Key] = rows
		default:
			out[o.Key] = len(data)
		}
	}
	return out
}

// concurrentRuns starts two runs together on one store and checks that one
// published, the other lost the race, and the store equals what one run
// alone makes of a copy of the same start (newStore gives an empty store;
// seed fills one).
func concurrentRuns(t *testing.T, newStore func(t *testing.T) storage.Versioned, seed func(t *testing.T, s storage.Versioned),
	run func(ctx context.Context, s storage.Versioned) (string, error)) {
	t.Helper()
	ctx := context.Background()
	shared := newStore(t)
	seed(t, shared)
	rs := newRaceStore(shared)
	statuses := make([]string, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() { statuses[i], errs[i] = run(ctx, rs) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	if s := strings.Join(statuses, ","); s != batch.StatusOK+","+batch.StatusLostRace && s != batch.StatusLostRace+","+batch.StatusOK {
		t.Fatalf("statuses of two runs started together = %s, want one ok and one lost_race", s)
	}

	alone := newStore(t)
	seed(t, alone)
	if status, err := run(ctx, alone); err != nil || status != batch.StatusOK {
		t.Fatalf("one run alone: %s, %v", status, err)
	}
	got, want := storeState(t, shared), storeState(t, alone)
	if len(want) == 0 || !reflect.DeepEqual(got, want) {
		var gk, wk []string
		for k := range got {
			gk = append(gk, k)
		}
		for k := range want {
			wk = append(wk, k)
		}
		t.Errorf("after two runs the store differs from one run's:\n got keys %v\nwant keys %v", gk, wk)
	}
}

func seedRaw(t *testing.T) storage.Store {
	raw := newLocal(t)
	d := genEvents(11, 3000, dataStart, dataEnd, 0.1)
	writeRaw(t, raw, d.events, d.bad, "fh")
	return raw
}

func batchRun(raw storage.Store) func(ctx context.Context, s storage.Versioned) (string, error) {
	return func(ctx context.Context, s storage.Versioned) (string, error) {
		sum, err := (&batch.Builder{Raw: raw, Out: s, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}).Run(ctx)
		if err != nil {
			return "", err
		}
		return sum.Status, nil
	}
}

func mergeRun(ctx context.Context, s storage.Versioned) (string, error) {
	sum, err := (&batch.Merger{Batch: s, Speed: s, Out: s, Now: fixedNow(runAt)}).Run(ctx)
	if err != nil {
		return "", err
	}
	return sum.Status, nil
}

// mergeSeed publishes an earlier batch view (so the run under test also
// has a batch manifest to build on) and the speed view.
func mergeSeed(raw storage.Store) func(t *testing.T, s storage.Versioned) {
	return func(t *testing.T, s storage.Versioned) {
		t.Helper()
		d := genEvents(11, 3000, dataStart, dataEnd, 0.1)
		writeSpeed(t, s, d.events)
		if _, err := (&batch.Builder{Raw: raw, Out: s, Now: fixedNow(runAt)}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// batchSeed publishes the batch view of an earlier time, so the racing
// runs replace a manifest (If-Match) rather than create one.
func batchSeed(raw storage.Store) func(t *testing.T, s storage.Versioned) {
	return func(t *testing.T, s storage.Versioned) {
		t.Helper()
		early := time.Date(2026, 11, 21, 3, 30, 0, 0, time.UTC)
		if _, err := (&batch.Builder{Raw: raw, Out: s, Now: fixedNow(early)}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func noSeed(*testing.T, storage.Versioned) {}

func localStore(t *testing.T) storage.Versioned { return newLocal(t) }

func s3Store(t *testing.T) storage.Versioned {
	cfg := testenv.Config(t)
	s, err := storage.OpenWith(context.Background(), "s3://"+testenv.Bucket(t)+"/views", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s.(storage.Versioned)
}

func TestConcurrentBatchRunsLocal(t *testing.T) {
	raw := seedRaw(t)
	t.Run("first manifest", func(t *testing.T) { concurrentRuns(t, localStore, noSeed, batchRun(raw)) })
	t.Run("replacing a manifest", func(t *testing.T) { concurrentRuns(t, localStore, batchSeed(raw), batchRun(raw)) })
}

func TestConcurrentBatchRunsS3(t *testing.T) {
	raw := seedRaw(t)
	t.Run("first manifest", func(t *testing.T) { concurrentRuns(t, s3Store, noSeed, batchRun(raw)) })
	t.Run("replacing a manifest", func(t *testing.T) { concurrentRuns(t, s3Store, batchSeed(raw), batchRun(raw)) })
}

func TestConcurrentMergeRunsLocal(t *testing.T) {
	concurrentRuns(t, localStore, mergeSeed(seedRaw(t)), mergeRun)
}

func TestConcurrentMergeRunsS3(t *testing.T) {
	concurrentRuns(t, s3Store, mergeSeed(seedRaw(t)), mergeRun)
}
