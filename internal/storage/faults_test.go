package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

// faultyStore is an S3 store on bucket reached through a fault proxy.
func faultyStore(t *testing.T, bucket string, rate float64, seed uint64, faults ...testenv.Fault) (storage.Store, *testenv.FaultProxy) {
	t.Helper()
	p := testenv.NewFaultProxy(t, testenv.Endpoint(t), rate, seed, faults...)
	cfg, err := awscfg.Load(context.Background(), awscfg.Options{Endpoint: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := storage.OpenWith(context.Background(), "s3://"+bucket+"/p", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

// Every S3 call of the store survives transient faults on a third of the
// requests: 503 SlowDown, 500 InternalError, dropped connections, replies
// cut off half-way (object bodies included: Get reads the rest with a
// Range) and latency. Objects come back whole.
func TestIntegrationS3Faults(t *testing.T) {
	ctx := context.Background()
	bucket := testenv.Bucket(t)
	s, p := faultyStore(t, bucket, 0.3, 1)
	want := map[string][]byte{}
	for i := range 30 {
		// Up to 1 MiB: bodies long enough to be cut while they stream.
		data := bytes.Repeat([]byte(fmt.Sprintf("object %d;", i)), 1+i*i*120)
		key := fmt.Sprintf("dt=2026-11-30/obj-%02d", i)
		if err := s.Put(ctx, key, data); err != nil {
			t.Fatalf("Put %s: %v (%s)", key, err, p.Stats())
		}
		want[key] = data
	}
	objs, err := s.List(ctx, "dt=")
	if err != nil || len(objs) != len(want) {
		t.Fatalf("List: %d objects, %v (%s)", len(objs), err, p.Stats())
	}
	for _, o := range objs {
		got, err := storage.ReadAll(ctx, s, o.Key)
		if err != nil {
			t.Fatalf("Get %s: %v (%s)", o.Key, err, p.Stats())
		}
		if !bytes.Equal(got, want[o.Key]) || o.Size != int64(len(got)) {
			t.Fatalf("%s: %d bytes back, %d put, listed %d", o.Key, len(got), len(want[o.Key]), o.Size)
		}
	}
	st := p.Stats()
	t.Logf("fault proxy: %s", st)
	for _, f := range testenv.AllFaults {
		if st.Faulted[f] == 0 {
			t.Errorf("no request got %s: the test did not test it", f)
		}
	}
}

// A cut body is read again from where it broke: with every GetObject reply
// cut off half-way, a read needs log2(size) requests, each for the rest.
func TestIntegrationS3BodyCutEveryTime(t *testing.T) {
	ctx := context.Background()
	bucket := testenv.Bucket(t)
	directPut(t, bucket, "k", bytes.Repeat([]byte("0123456789"), 100))
	s, p := faultyStore(t, bucket, 1, 2, testenv.FaultCut)
	got, err := storage.ReadAll(ctx, s, "k")
	// 1000 bytes halve to nothing in about 10 reads; the bound is 7 more.
	if err == nil || !strings.Contains(err.Error(), "read again 7 times") {
		t.Fatalf("every reply cut: %d bytes, %v; want the error after 7 reads again", len(got), err)
	}
	if n := p.Stats().Requests; n < 8 {
		t.Errorf("%d requests, want the first and 7 more", n)
	}
}

// A permanent error fails at once, in one line: one request, no retry.
func TestIntegrationS3PermanentErrorsFailAtOnce(t *testing.T) {
	s, p := faultyStore(t, testenv.Name(t, "nobucket"), 0, 3)
	_, err := s.Get(context.Background(), "k")
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Fatalf("Get from a missing bucket: %v, want one line naming NoSuchBucket", err)
	}
	if n := p.Stats().Requests; n != 1 {
		t.Errorf("%d requests for a missing bucket, want 1 (no retries)", n)
	}
	t.Logf("the error: %v", err)
}

func ptr[T any](v T) *T { return &v }

// directPut puts data at key in bucket (prefix p/) straight on the
// emulator, with no proxy, and returns that store.
func directPut(t *testing.T, bucket, key string, data []byte) storage.Store {
	t.Helper()
	ctx := context.Background()
	direct, err := storage.OpenWith(ctx, "s3://"+bucket+"/p", ptr(testenv.Config(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.Put(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	return direct
}

// A conditional commit survives losing the reply to its conditional
// writes: the first try of each PUT with If-Match or If-None-Match (the
// claim and the manifest) reaches S3 and its reply is dropped, so the SDK
// sends it again and S3 refuses the copy. The run still commits, once.
func TestIntegrationS3CommitLostReplies(t *testing.T) {
	ctx := context.Background()
	bucket := testenv.Bucket(t)
	p := testenv.NewFaultProxy(t, testenv.Endpoint(t), 1, 4, testenv.FaultDrop)
	var mu sync.Mutex
	first := map[string]bool{} // the first try of each conditional write loses its reply
	p.Only = func(r *http.Request) bool {
		cond := r.Header.Get("If-Match") + r.Header.Get("If-None-Match")
		if r.Method != http.MethodPut || cond == "" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		k := r.URL.Path + " " + cond
		if first[k] {
			return false
		}
		first[k] = true
		return true
	}
	cfg, err := awscfg.Load(ctx, awscfg.Options{Endpoint: p.URL})
	if err != nil {
		t.Fatal(err)
	}
	s, err := storage.OpenWith(ctx, "s3://"+bucket+"/p", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }
	c, _, err := storage.BeginCommit(ctx, s, "batch/_manifest.json", "run-1", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ctx, "batch/part-0.parquet", []byte("rows")); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, storage.Manifest{Run: "run-1", Objects: []storage.ObjectInfo{{Key: "batch/part-0.parquet"}}}); err != nil {
		t.Fatalf("commit with its conditional replies lost: %v (%s)", err, p.Stats())
	}
	m, err := storage.ReadManifest(ctx, s, "batch/_manifest.json")
	if err != nil || m.Run != "run-1" || m.Pending != nil || len(m.Objects) != 1 || m.Objects[0].Size != 4 {
		t.Fatalf("manifest after the commit: %+v, %v", m, err)
	}
	if st := p.Stats(); st.Faulted[testenv.FaultDrop] < 2 {
		t.Errorf("%s: want the claim's and the manifest's replies dropped", st)
	}
}

// GetVersion, the manifest's read, survives a reply cut off half-way as
// Get does: with the first GET of the object cut, it reads on from the
// byte it broke at and returns the whole object and the version a clean
// read gives. (It once read the body as it came: an unexpected EOF
// failed the commit that read it.)
func TestIntegrationS3GetVersionBodyCut(t *testing.T) {
	ctx := context.Background()
	bucket := testenv.Bucket(t)
	data := bytes.Repeat([]byte(`{"run":"run-1"}`), 200)
	direct := directPut(t, bucket, "batch/_manifest.json", data)
	_, wantVer, err := direct.(storage.Versioned).GetVersion(ctx, "batch/_manifest.json")
	if err != nil || wantVer == "" {
		t.Fatalf("clean GetVersion: %q, %v", wantVer, err)
	}
	s, p := faultyStore(t, bucket, 1, 5, testenv.FaultCut)
	var mu sync.Mutex
	gets := 0
	p.Only = func(r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodGet {
			return false
		}
		gets++
		return gets == 1
	}
	got, ver, err := s.(storage.Versioned).GetVersion(ctx, "batch/_manifest.json")
	if err != nil || !bytes.Equal(got, data) || ver != wantVer {
		t.Fatalf("GetVersion with its reply cut: %d of %d bytes, version %q (want %q), %v", len(got), len(data), ver, wantVer, err)
	}
	if st := p.Stats(); st.Faulted[testenv.FaultCut] != 1 || gets != 2 {
		t.Errorf("%s, %d GETs: want the first cut and one more for the rest", st, gets)
	}
}
