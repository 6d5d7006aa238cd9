package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/internal/views"
)

// kcat returns the path of kcat, the independent (librdkafka) Kafka client
// `make kcat` installs. Without it the test skips, except under CI=true,
// where it fails.
func kcat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		if testenv.InCI() {
			t.Fatal("kcat is not installed (make kcat installs Debian's kcat package); CI=true, so this fails instead of skipping")
		}
		t.Skip("kcat is not installed (make kcat, or apt-get install kcat): skipping the check against an independent Kafka client")
	}
	return p
}

func runKcat(t *testing.T, bin, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %q: %v\n%s", args, err, errOut.String())
	}
	return out.String()
}

// TestKcatReadsWhatProduceWrote: kcat consumes the topic produce wrote
// (lz4-compressed, idempotent batches) and finds every event once, keyed
// by its user_id.
func TestKcatReadsWhatProduceWrote(t *testing.T) {
	bin := kcat(t)
	c := kafkaCluster(t, 3)
	broker := c.ListenAddrs()[0]
	file := eventLines(t, 500)
	if code, out, errOut := runCLI(t, "", "produce", "--brokers", broker, "--topic", "events", "--file", file); code != 0 {
		t.Fatalf("produce: exit %d: %s %s", code, out, errOut)
	}
	out := runKcat(t, bin, "", "-C", "-b", broker, "-t", "events", "-o", "beginning", "-e", "-q", "-f", "%p\t%o\t%k\t%s\n")
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		left[l] = true
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		f := strings.SplitN(l, "\t", 4)
		if len(f) != 4 {
			t.Fatalf("kcat line %q", l)
		}
		if !left[f[3]] {
			t.Fatalf("kcat read %q, which produce did not write or which came twice", f[3])
		}
		delete(left, f[3])
		if !strings.Contains(f[3], `"user_id":"`+f[2]+`"`) {
			t.Fatalf("partition %s offset %s: key %q, value %s", f[0], f[1], f[2], f[3])
		}
	}
	if len(lines) != 500 || len(left) != 0 {
		t.Fatalf("kcat read %d records, %d of produce's missing", len(lines), len(left))
	}
}

// TestSpeedCountsWhatKcatWrote: records kcat produces (one a tombstone)
// are read by the speed layer's consumer group and counted exactly.
func TestSpeedCountsWhatKcatWrote(t *testing.T) {
	bin := kcat(t)
	c := kafkaCluster(t, 2)
	broker := c.ListenAddrs()[0]
	var in strings.Builder
	for i := range 300 {
		fmt.Fprintf(&in, "user-%d|"+`{"event_id":"k%d","event_type":"view","event_time":"2026-11-22T09:%02d:00Z","user_id":"user-%d","value":1}`+"\n", i%5, i, i%60, i%5)
	}
	in.WriteString("user-0|" + `{"event_id":"k0","event_type":"view","event_time":"2026-11-22T09:00:00Z","user_id":"user-0","value":1}` + "\n") // a duplicate
	in.WriteString("user-9|\n")                                                                                                                 // a tombstone (-Z)
	in.WriteString("user-9|not json\n")
	runKcat(t, bin, in.String(), "-P", "-b", broker, "-t", "events", "-K", "|", "-Z")

	dir := t.TempDir()
	code, out, errOut := runCLI(t, "", "speed", "--brokers", broker, "--topic", "events", "--group", "speed", "--batch-size", "64", "--out", dir)
	if code != 0 {
		t.Fatalf("speed: exit %d: %s\n%s", code, out, errOut)
	}
	// The duplicate lands in a later batch than its first copy: both
	// objects count it, and their fingerprints let the merge count it once.
	if !strings.Contains(out, "invocations, 303 records (303 user records): 301 events, 0 duplicates, 2 invalid (invalid_json 1, tombstone 1)") {
		t.Fatalf("speed output:\n%s", out)
	}
	objs, _ := filepath.Glob(filepath.Join(dir, "speed", "dt=2026-11-22", "hour=09", "events-*-*-*.parquet"))
	if len(objs) == 0 {
		t.Fatal("no speed objects keyed <topic>-<partition>-<first>-<last>")
	}
	distinct := map[uint64]bool{}
	for _, o := range objs {
		data, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := views.Decode(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, fp := range r.Fingerprints {
				distinct[fp] = true
			}
		}
	}
	if len(distinct) != 300 {
		t.Fatalf("the speed objects hold %d distinct events, want 300", len(distinct))
	}
	// The group committed: a second run has nothing to read.
	code, out, _ = runCLI(t, "", "speed", "--brokers", broker, "--topic", "events", "--group", "speed", "--out", dir)
	if code != 0 || !strings.Contains(out, "0 batches") {
		t.Fatalf("second run: exit %d:\n%s", code, out)
	}
}
