package crash_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// Trials per command: each kills one run at a random moment.
const trials = 20

var (
	start = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	// earlier and to pin the batch watermark, whatever the clock says:
	// a view published up to earlier exists before each trial's run.
	earlier = "2026-11-20T06"
	to      = "2026-11-21T12"
)

// build compiles cmd/lambdastack into dir.
func build(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "lambdastack")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/lambdastack/lambdastack/cmd/lambdastack")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building lambdastack: %v\n%s", err, out)
	}
	return bin
}

// writeInputs writes 36 hours of raw events (three gzip NDJSON objects an
// hour, as Firehose lands them) under raw, and the speed objects of the
// same events (the speed handler, two records per batch) under views.
func writeInputs(t *testing.T, raw, vs storage.Store) {
	t.Helper()
	ctx := context.Background()
	g, err := gen.New(gen.Config{Seed: 3, Events: 6000, Start: start, Hours: 36, Users: 300,
		Types: gen.DefaultTypes[:4], Sources: gen.DefaultSources, DupRatio: 0.03, LateRatio: 0.05, BadRatio: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	parts := map[string][]*bytes.Buffer{}
	var recs []events.KinesisEventRecord
	n := 0
	for !g.Done() {
		r := g.Next()
		n++
		recs = append(recs, events.KinesisEventRecord{EventSource: "aws:kinesis", EventID: fmt.Sprintf("shardId-000000000000:%d", n),
			Kinesis: events.KinesisRecord{Data: append([]byte(nil), r.Data...), PartitionKey: r.UserID, SequenceNumber: fmt.Sprint(n),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: r.Arrival}}})
		e, rej := event.Validate(r.Data, r.Arrival)
		if rej != nil {
			continue
		}
		dir := fmt.Sprintf("events/dt=%s/hour=%s/", e.Dt(), e.Hour())
		if parts[dir] == nil {
			parts[dir] = []*bytes.Buffer{{}, {}, {}}
		}
		b := parts[dir][n%3]
		b.Write(append(e.AppendJSON(nil), '\n'))
	}
	for dir, bs := range parts {
		for i, b := range bs {
			var gz bytes.Buffer
			zw := gzip.NewWriter(&gz)
			zw.Write(b.Bytes())
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := raw.Put(ctx, fmt.Sprintf("%sfh-%d.gz", dir, i), gz.Bytes()); err != nil {
				t.Fatal(err)
			}
		}
	}
	h := &speed.Handler{Store: vs}
	for i := 0; i < len(recs); i += 500 {
		res := h.Process(ctx, events.KinesisEvent{Records: recs[i:min(i+500, len(recs))]})
		if len(res.Failed) > 0 {
			t.Fatal(res.Failed[0].Err)
		}
	}
}

// runCLI runs the binary to the end.
func runCLI(t *testing.T, bin string, args ...string) time.Duration {
	t.Helper()
	begin := time.Now()
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		t.Fatalf("lambdastack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(begin)
}

// killAt starts the binary and kills it with SIGKILL after d; it reports
// whether the kill came before the run ended.
func killAt(t *testing.T, bin string, d time.Duration, args ...string) bool {
	t.Helper()
	cmd := exec.Command(bin, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("lambdastack %s ended before the kill: %v", strings.Join(args, " "), err)
		}
		return false
	case <-time.After(d):
	}
	cmd.Process.Kill()
	err := <-done
	return err != nil // killed; a run that ended in the same instant exits 0
}

// copyDir copies the tree at src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// viewRows decodes the objects the manifests name (the published views;
// a killed run's staged objects are not among them) as rows, by key.
func viewRows(t *testing.T, dir string, manifests ...string) map[string][]views.Row {
	t.Helper()
	ctx := context.Background()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]views.Row{}
	for _, key := range manifests {
		m, err := storage.ReadManifest(ctx, s, key)
		if err != nil {
			t.Fatal(err)
		}
		if m.Pending != nil {
			t.Fatalf("%s holds a claim of run %s still pending", key, m.Pending.Manifest.Run)
		}
		for _, o := range m.Objects {
			data, err := storage.ReadAll(ctx, s, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(data)) != o.Size {
				t.Errorf("%s: %d bytes, the manifest says %d", o.Key, len(data), o.Size)
			}
			rows, err := views.Decode(ctx, data)
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			out[o.Key] = rows
		}
	}
	if len(out) == 0 {
		t.Fatalf("the manifests %v in %s name no objects", manifests, dir)
	}
	return out
}

// agePending moves the claimed time of a pending commit in the manifest
// at key back by storage.StaleAfter, as if that long had passed; it
// reports whether there was one.
func agePending(t *testing.T, dir, key string) bool {
	t.Helper()
	ctx := context.Background()
	s, err := storage.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := storage.ReadManifest(ctx, s, key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Pending == nil {
		return false
	}
	m.Pending.Claimed = m.Pending.Claimed.Add(-storage.StaleAfter - time.Minute)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(key)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return true
}

// staged counts the objects killed runs left in staging areas (the next
// run that commits sweeps them once they are older than
// storage.StaleAfter).
func staged(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(filepath.ToSlash(p), "/_staging/") {
			n++
		}
		return nil
	})
	return n
}

// writtenSince reports whether a file under dir was written after t.
func writtenSince(dir string, t time.Time) bool {
	found := false
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(t) {
			found = true
		}
		return nil
	})
	return found
}

// tempLeft counts the temporary files killed writes left behind (the
// local store writes a temporary file and renames it; List skips them).
func tempLeft(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), ".tmp-") {
			n++
		}
		return nil
	})
	return n
}

// TestKillBatchAndMergeThenRerun kills lambdastack batch and lambdastack
// merge (built binaries, run as subprocesses) with SIGKILL at a random
// moment of their run, 20 times each, reruns them, and requires the views
// of a clean run: the objects the batch manifest names after batch, those
// the merged manifest names (merged and users views) after merge.
func TestKillBatchAndMergeThenRerun(t *testing.T) {
	work := t.TempDir()
	bin := build(t, work)
	base := filepath.Join(work, "base")
	raw, err := storage.NewLocal(filepath.Join(base, "raw"))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := storage.NewLocal(filepath.Join(base, "views"))
	if err != nil {
		t.Fatal(err)
	}
	writeInputs(t, raw, vs)
	// Before the trials: a batch view published up to earlier.
	runCLI(t, bin, "batch", "--quiet", "--raw", filepath.Join(base, "raw"), "--out", filepath.Join(base, "views"), "--to", earlier)

	batchArgs := func(dir string) []string {
		return []string{"batch", "--quiet", "--raw", filepath.Join(base, "raw"), "--out", filepath.Join(dir, "views"), "--to", to}
	}
	mergeArgs := func(dir string) []string {
		return []string{"merge", "--batch", filepath.Join(dir, "views")}
	}

	// The clean runs: batch, then merge.
	// Trials copy only views/: raw is read, never written.
	clean := filepath.Join(work, "clean")
	copyDir(t, filepath.Join(base, "views"), filepath.Join(clean, "views"))
	batchTook := runCLI(t, bin, batchArgs(clean)...)
	afterBatch := filepath.Join(work, "after-batch")
	copyDir(t, filepath.Join(clean, "views"), filepath.Join(afterBatch, "views"))
	mergeTook := runCLI(t, bin, mergeArgs(clean)...)
	wantBatch := viewRows(t, filepath.Join(clean, "views"), batch.BatchManifestKey)
	wantMerged := viewRows(t, filepath.Join(clean, "views"), batch.MergedManifestKey)
	t.Logf("clean runs: batch %s, merge %s", batchTook.Round(time.Millisecond), mergeTook.Round(time.Millisecond))

	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name     string
		from     string // the state a trial starts from
		args     func(dir string) []string
		took     time.Duration
		manifest []string
		want     map[string][]views.Row
	}{
		{"batch", base, batchArgs, batchTook, []string{batch.BatchManifestKey}, wantBatch},
		{"merge", afterBatch, mergeArgs, mergeTook, []string{batch.MergedManifestKey}, wantMerged},
	} {
		t.Run(c.name, func(t *testing.T) {
			wrote, temps, left, aged := 0, 0, 0, 0
			for i := range trials {
				// A moment within the clean run's duration and a quarter
				// (process start included); when the run had ended by then,
				// a copy of the state again and another moment (earlier
				// after four misses), so every trial kills.
				var dir string
				var at time.Duration
				window := c.took + c.took/4
				for attempt := 1; ; attempt++ {
					if attempt%4 == 0 {
						window = at // four runs ended first: aim earlier
					}
					dir = filepath.Join(work, fmt.Sprintf("%s-%02d", c.name, i))
					os.RemoveAll(dir)
					copyDir(t, filepath.Join(c.from, "views"), filepath.Join(dir, "views"))
					at = time.Duration(rng.Int64N(int64(window)))
					began := time.Now()
					if killAt(t, bin, at, c.args(dir)...) {
						if writtenSince(filepath.Join(dir, "views"), began) {
							wrote++
						}
						break
					}
				}
				temps += tempLeft(dir)
				runCLI(t, bin, c.args(dir)...)
				// A run killed after its claim leaves the claim pending; a
				// rerun within storage.StaleAfter takes it for a run still
				// at work and stops (readers see the previous view
				// meanwhile). Let that time pass and run again.
				if agePending(t, filepath.Join(dir, "views"), c.manifest[0]) {
					aged++
					runCLI(t, bin, c.args(dir)...)
				}
				left += staged(dir)
				if got := viewRows(t, filepath.Join(dir, "views"), c.manifest...); !reflect.DeepEqual(got, c.want) {
					t.Fatalf("trial %d (killed after %s): after the rerun the views differ from a clean run's: %d objects vs %d",
						i, at, len(got), len(c.want))
				}
			}
			t.Logf("%s: %d trials killed part-way (%d after writing some objects, %d after claiming the commit), every rerun gave the clean views; %d temporary files left by killed writes, %d staged objects left after the reruns",
				c.name, trials, wrote, aged, temps, left)
			if wrote == 0 {
				t.Errorf("no trial killed %s after it had written anything: the trials did not test a crash mid-write", c.name)
			}
		})
	}
}
