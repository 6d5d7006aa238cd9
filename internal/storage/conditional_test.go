package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

// testVersioned is the compare-and-swap contract of both stores.
func testVersioned(t *testing.T, newStore func(t *testing.T) storage.Versioned) {
	ctx := context.Background()
	t.Run("PutIf", func(t *testing.T) {
		s := newStore(t)
		if _, _, err := s.GetVersion(ctx, "m.json"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("GetVersion of a missing key: %v, want ErrNotExist", err)
		}
		if _, err := s.PutIf(ctx, "m.json", []byte("v1"), "some-version"); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("PutIf on a missing key with a version: %v, want ErrConflict", err)
		}
		v1, err := s.PutIf(ctx, "m.json", []byte("v1"), "")
		if err != nil {
			t.Fatalf("PutIf creating: %v", err)
		}
		if _, err := s.PutIf(ctx, "m.json", []byte("v1 again"), ""); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("PutIf creating an existing key: %v, want ErrConflict", err)
		}
		data, ver, err := s.GetVersion(ctx, "m.json")
		if err != nil || string(data) != "v1" || ver != v1 {
			t.Fatalf("GetVersion = %q, %q, %v; want v1, %q", data, ver, err, v1)
		}
		v2, err := s.PutIf(ctx, "m.json", []byte("v2"), v1)
		if err != nil {
			t.Fatalf("PutIf on the current version: %v", err)
		}
		if _, err := s.PutIf(ctx, "m.json", []byte("v3"), v1); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("PutIf on a replaced version: %v, want ErrConflict", err)
		}
		if got := mustRead(t, s, "m.json"); got != "v2" || v2 == v1 {
			t.Errorf("after the conflicts the object is %q (version %q after %q), want v2 with a new version", got, v2, v1)
		}
		if l := mustList(t, s, ""); len(l) != 1 {
			t.Errorf("List = %+v, want only m.json (no lock files)", l)
		}
	})
	t.Run("RacingPutIf", func(t *testing.T) {
		s := newStore(t)
		base, err := s.PutIf(ctx, "m.json", []byte("base"), "")
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		won := make(chan int, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				_, err := s.PutIf(ctx, "m.json", []byte(fmt.Sprint("writer ", i)), base)
				switch {
				case err == nil:
					won <- i
				case !errors.Is(err, storage.ErrConflict):
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		close(won)
		var winners []int
		for i := range won {
			winners = append(winners, i)
		}
		if len(winners) != 1 {
			t.Fatalf("%d writers won a put on the same version (%v), want exactly 1", len(winners), winners)
		}
		if got := mustRead(t, s, "m.json"); got != fmt.Sprint("writer ", winners[0]) {
			t.Errorf("object = %q, want the winner's", got)
		}
	})
	t.Run("CommitLosesCleanly", func(t *testing.T) {
		s := newStore(t)
		now := func() time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC) }
		a, _, err := storage.BeginCommit(ctx, s, "v/_manifest.json", "run-a", now)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := storage.BeginCommit(ctx, s, "v/_manifest.json", "run-b", now)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			c    *storage.Commit
			data string
		}{{a, "a"}, {b, "b"}} {
			if err := c.c.Put(ctx, "v/part.parquet", []byte(c.data)); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Publish(ctx, storage.Manifest{Run: "run-a"}); err != nil {
			t.Fatalf("first Publish: %v", err)
		}
		if err := b.Publish(ctx, storage.Manifest{Run: "run-b"}); !errors.Is(err, storage.ErrLostRace) {
			t.Fatalf("second Publish: %v, want ErrLostRace", err)
		}
		if got := mustRead(t, s, "v/part.parquet"); got != "a" {
			t.Errorf("published object = %q, want the winner's", got)
		}
		m, err := storage.ReadManifest(ctx, s, "v/_manifest.json")
		if err != nil || m.Run != "run-a" || m.Pending != nil {
			t.Errorf("manifest = %+v, %v; want run-a committed", m, err)
		}
		if l := mustList(t, s, ""); len(l) != 2 {
			t.Errorf("store holds %+v, want the manifest and the winner's object only", l)
		}
	})
}

func TestLocalVersioned(t *testing.T) {
	testVersioned(t, func(t *testing.T) storage.Versioned {
		s, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestIntegrationS3Versioned(t *testing.T) {
	cfg := testenv.Config(t)
	testVersioned(t, func(t *testing.T) storage.Versioned {
		return storage.NewS3(cfg.S3(), testenv.Bucket(t), "p")
	})
}

// A winner sweeps what runs that died before their claim staged, once it
// is older than any run, and leaves a live run's staged objects alone.
func TestCommitSweepsDeadRuns(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		now  time.Time
		kept bool
	}{
		{"live run", time.Now(), true},
		{"dead run", time.Now().Add(storage.StaleAfter + time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			mustPut(t, s, "v/_staging/other-run/v/part.parquet", "left behind")
			c, _, err := storage.BeginCommit(ctx, s, "v/_manifest.json", "run-a", func() time.Time { return tc.now })
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Put(ctx, "v/part.parquet", []byte("a")); err != nil {
				t.Fatal(err)
			}
			if err := c.Publish(ctx, storage.Manifest{Run: "run-a"}); err != nil {
				t.Fatal(err)
			}
			left := mustList(t, s, "v/_staging/")
			if kept := len(left) == 1; kept != tc.kept {
				t.Errorf("staging after the commit holds %+v; want the other run's object kept: %v", left, tc.kept)
			}
		})
	}
}
