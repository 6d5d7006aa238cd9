package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// testStore is the contract every Store implementation meets. newStore
// returns a fresh, empty store for each subtest.
func testStore(t *testing.T, newStore func(t *testing.T) storage.Store) {
	ctx := context.Background()

	t.Run("PutGet", func(t *testing.T) {
		s := newStore(t)
		if s.Location() == "" {
			t.Error("Location is empty")
		}
		for key, data := range map[string][]byte{
			"a.txt":                           []byte("hello"),
			"empty":                           {},
			"deep/er/path/bin.dat":            {0, 1, 2, 0xff, '\n'},
			"events/dt=2026-01-02/hour=03/x":  []byte(`{"k":"v"}`),
			"with space/and-unicode-é.ndjson": []byte("ü"),
		} {
			if err := s.Put(ctx, key, data); err != nil {
				t.Fatalf("Put(%q): %v", key, err)
			}
			got, err := storage.ReadAll(ctx, s, key)
			if err != nil {
				t.Fatalf("ReadAll(%q): %v", key, err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("ReadAll(%q) = %q, want %q", key, got, data)
			}
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "k", "first version, longer")
		mustPut(t, s, "k", "second")
		if got := mustRead(t, s, "k"); got != "second" {
			t.Errorf("after overwrite got %q, want %q", got, "second")
		}
		if l := mustList(t, s, ""); len(l) != 1 || l[0].Size != int64(len("second")) {
			t.Errorf("after overwrite List = %+v, want one object of size %d", l, len("second"))
		}
	})

	t.Run("Copy", func(t *testing.T) {
		s := newStore(t)
		c, ok := s.(storage.Copier)
		if !ok {
			t.Fatalf("%T is not a storage.Copier", s)
		}
		mustPut(t, s, "staging/run/a=1/x.parquet", "new")
		mustPut(t, s, "old/x.parquet", "old, longer")
		for _, to := range []string{"a=1/fresh dir/x.parquet", "old/x.parquet"} {
			if err := c.Copy(ctx, "staging/run/a=1/x.parquet", to); err != nil {
				t.Fatalf("Copy to %q: %v", to, err)
			}
			if got := mustRead(t, s, to); got != "new" {
				t.Errorf("after Copy %q holds %q, want %q", to, got, "new")
			}
		}
		if got := mustRead(t, s, "staging/run/a=1/x.parquet"); got != "new" {
			t.Errorf("after Copy the source holds %q", got)
		}
		// Copying again (a claim finished twice) changes nothing.
		if err := c.Copy(ctx, "staging/run/a=1/x.parquet", "old/x.parquet"); err != nil {
			t.Fatalf("Copy again: %v", err)
		}
		// The source can go and be written again; the copies keep theirs.
		mustPut(t, s, "staging/run/a=1/x.parquet", "newer")
		if err := s.Delete(ctx, "staging/run/a=1/x.parquet"); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, s, "old/x.parquet"); got != "new" {
			t.Errorf("a copy changed with its source: %q", got)
		}
		if l := mustList(t, s, ""); len(l) != 2 {
			t.Errorf("after copies List = %+v, want the two copies", l)
		}
		if err := c.Copy(ctx, "no/such/key", "k"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Copy of a missing key: err = %v, want ErrNotExist", err)
		}
	})

	t.Run("MissingKey", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Get(ctx, "no/such/key")
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Get of a missing key: err = %v, want ErrNotExist", err)
		}
		_, err = storage.ReadAll(ctx, s, "no/such/key")
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("ReadAll of a missing key: err = %v, want ErrNotExist", err)
		}
	})

	t.Run("InvalidKey", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{"", "dir/"} {
			if err := s.Put(ctx, key, []byte("x")); err == nil {
				t.Errorf("Put(%q) succeeded, want an error", key)
			}
		}
	})

	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		keys := []string{"b/5", "a/2", "a/1", "ab/4", "a/b/3", "events/dt=2026-01-01/hour=00/x.parquet",
			"events/dt=2026-01-01/hour=01/y.parquet", "events/dt=2026-01-02/hour=00/z.parquet"}
		for _, k := range keys {
			mustPut(t, s, k, "data of "+k)
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"", []string{"a/1", "a/2", "a/b/3", "ab/4", "b/5", "events/dt=2026-01-01/hour=00/x.parquet",
				"events/dt=2026-01-01/hour=01/y.parquet", "events/dt=2026-01-02/hour=00/z.parquet"}},
			{"a/", []string{"a/1", "a/2", "a/b/3"}},
			{"a", []string{"a/1", "a/2", "a/b/3", "ab/4"}},
			{"a/b", []string{"a/b/3"}},
			{"events/dt=2026-01-01/", []string{"events/dt=2026-01-01/hour=00/x.parquet", "events/dt=2026-01-01/hour=01/y.parquet"}},
			{"events/dt=2026-01-0", []string{"events/dt=2026-01-01/hour=00/x.parquet",
				"events/dt=2026-01-01/hour=01/y.parquet", "events/dt=2026-01-02/hour=00/z.parquet"}},
			{"events/dt=2026-01-02/hour=00/z.parquet", []string{"events/dt=2026-01-02/hour=00/z.parquet"}},
			{"zzz", nil},
			{"nothing/here/", nil},
		} {
			t.Run(fmt.Sprintf("prefix=%q", tc.prefix), func(t *testing.T) {
				got := mustList(t, s, tc.prefix)
				var gotKeys []string
				for _, o := range got {
					gotKeys = append(gotKeys, o.Key)
					if want := int64(len("data of " + o.Key)); o.Size != want {
						t.Errorf("%s: Size = %d, want %d", o.Key, o.Size, want)
					}
					if o.ModTime.IsZero() || time.Since(o.ModTime) > time.Hour {
						t.Errorf("%s: ModTime = %v, want about now", o.Key, o.ModTime)
					}
				}
				if strings.Join(gotKeys, ",") != strings.Join(tc.want, ",") {
					t.Errorf("List(%q) = %q, want %q", tc.prefix, gotKeys, tc.want)
				}
			})
		}
	})

	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "d/keep", "1")
		mustPut(t, s, "d/gone", "2")
		if err := s.Delete(ctx, "d/gone"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := s.Get(ctx, "d/gone"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Get after Delete: err = %v, want ErrNotExist", err)
		}
		if l := mustList(t, s, "d/"); len(l) != 1 || l[0].Key != "d/keep" {
			t.Errorf("List after Delete = %+v, want only d/keep", l)
		}
		if err := s.Delete(ctx, "d/never-existed"); err != nil {
			t.Errorf("Delete of a missing key: %v, want nil", err)
		}
	})

	t.Run("Manifest", func(t *testing.T) {
		s := newStore(t)
		if _, err := storage.ReadManifest(ctx, s, "batch/_manifest.json"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("ReadManifest before publish: err = %v, want ErrNotExist", err)
		}
		mustPut(t, s, "batch/run-1/part-0.parquet", "p0")
		mustPut(t, s, "batch/run-1/part-1.parquet", "p1")
		// The caller names the objects; Publish records them as stored.
		m := storage.Manifest{
			Run:       "run-1",
			Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Objects:   []storage.ObjectInfo{{Key: "batch/run-1/part-0.parquet"}, {Key: "batch/run-1/part-1.parquet"}},
			Meta:      json.RawMessage(`{"watermark":"2026-01-02T03:00:00Z"}`),
		}
		if err := storage.Publish(ctx, s, "batch/_manifest.json", m); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		got, err := storage.ReadManifest(ctx, s, "batch/_manifest.json")
		if err != nil {
			t.Fatalf("ReadManifest: %v", err)
		}
		if got.Run != m.Run || !got.Published.Equal(m.Published) || len(got.Objects) != 2 ||
			got.Objects[0].Key != "batch/run-1/part-0.parquet" || got.Objects[0].Size != 2 || got.Objects[1].Size != 2 {
			t.Errorf("ReadManifest = %+v, want %+v with each object's size", got, m)
		}
		if want := mustList(t, s, "batch/run-1/"); len(want) != 2 || got.Objects[0].Size != want[0].Size || got.Objects[1].Size != want[1].Size {
			t.Errorf("manifest objects %+v, want the sizes listed: %+v", got.Objects, want)
		}
		missing := storage.Manifest{Run: "run-x", Objects: []storage.ObjectInfo{{Key: "batch/run-1/part-9.parquet"}}}
		if err := storage.Publish(ctx, s, "batch/_other.json", missing); err == nil || !strings.Contains(err.Error(), "part-9.parquet") {
			t.Errorf("Publish naming a missing object: %v, want an error naming it", err)
		}
		var meta struct{ Watermark string }
		if err := json.Unmarshal(got.Meta, &meta); err != nil || meta.Watermark != "2026-01-02T03:00:00Z" {
			t.Errorf("manifest Meta = %s (%v), want the published watermark", got.Meta, err)
		}
		// A second publish replaces the first as a whole.
		m2 := storage.Manifest{Run: "run-2", Published: m.Published.Add(time.Hour)}
		if err := storage.Publish(ctx, s, "batch/_manifest.json", m2); err != nil {
			t.Fatalf("second Publish: %v", err)
		}
		if got, err := storage.ReadManifest(ctx, s, "batch/_manifest.json"); err != nil || got.Run != "run-2" || len(got.Objects) != 0 {
			t.Errorf("ReadManifest after second publish = %+v, %v; want run-2 with no objects", got, err)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		s := newStore(t)
		// n writers of their own keys, and the first few of them also
		// overwriting one shared key (moto serializes overwrites slowly,
		// so that part stays small).
		const n, sharers = 16, 4
		var wg sync.WaitGroup
		errs := make(chan error, n+sharers)
		for i := range n {
			wg.Go(func() {
				if err := s.Put(ctx, fmt.Sprintf("c/own-%02d", i), []byte(strings.Repeat(fmt.Sprint(i%10), 1000+i))); err != nil {
					errs <- err
				}
				if i < sharers {
					if err := s.Put(ctx, "c/shared", []byte(strings.Repeat(fmt.Sprint(i%10), 5000+i))); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("concurrent Put: %v", err)
		}
		l := mustList(t, s, "c/")
		if len(l) != n+1 {
			t.Errorf("after %d concurrent writers List has %d objects, want %d", n, len(l), n+1)
		}
		for i := range n {
			key := fmt.Sprintf("c/own-%02d", i)
			if got := mustRead(t, s, key); got != strings.Repeat(fmt.Sprint(i%10), 1000+i) {
				t.Errorf("%s has the wrong content (%d bytes)", key, len(got))
			}
		}
		// The shared key holds exactly one writer's whole content.
		shared := mustRead(t, s, "c/shared")
		i := len(shared) - 5000
		if i < 0 || i >= sharers || shared != strings.Repeat(fmt.Sprint(i%10), 5000+i) {
			t.Errorf("c/shared (%d bytes) is not one writer's whole content", len(shared))
		}
	})
}

func mustPut(t *testing.T, s storage.Store, key, data string) {
	t.Helper()
	if err := s.Put(context.Background(), key, []byte(data)); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustRead(t *testing.T, s storage.Store, key string) string {
	t.Helper()
	data, err := storage.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("ReadAll(%q): %v", key, err)
	}
	return string(data)
}

func mustList(t *testing.T, s storage.Store, prefix string) []storage.ObjectInfo {
	t.Helper()
	l, err := s.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return l
}

func TestLocalContract(t *testing.T) {
	testStore(t, func(t *testing.T) storage.Store {
		s, err := storage.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestIntegrationS3Contract(t *testing.T) {
	cfg := testenv.Config(t)
	for _, prefix := range []string{"", "some/prefix"} {
		t.Run(fmt.Sprintf("prefix=%q", prefix), func(t *testing.T) {
			testStore(t, func(t *testing.T) storage.Store {
				bucket := testenv.Bucket(t)
				// An object beside the store's prefix must stay invisible to it.
				if prefix != "" {
					if _, err := cfg.S3().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
						Key: aws.String("some/prefixed-neighbour"), Body: strings.NewReader("x")}); err != nil {
						t.Fatal(err)
					}
				}
				loc := "s3://" + bucket + "/" + prefix
				s, err := storage.Open(context.Background(), loc)
				if err != nil {
					t.Fatalf("Open(%q): %v", loc, err)
				}
				if _, ok := s.(*storage.S3); !ok {
					t.Fatalf("Open(%q) = %T, want *storage.S3", loc, s)
				}
				return s
			})
		})
	}
}

// TestLocalCopyLeavesNoTemp: copying onto a key that already is a link to
// the source (a claim finished twice) leaves no temporary file behind.
func TestLocalCopyLeavesNoTemp(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustPut(t, s, "staging/x", "data")
	for range 2 {
		if err := s.Copy(ctx, "staging/x", "out/x"); err != nil {
			t.Fatal(err)
		}
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			t.Errorf("left behind: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, s, "out/x"); got != "data" {
		t.Errorf("out/x holds %q", got)
	}
}
