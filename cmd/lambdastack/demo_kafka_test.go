package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoOverKafka runs the demo over the in-process Kafka cluster and
// over the Kinesis-like stream with the same seed: both reconcile, and the
// raw routes and the merged counts agree.
func TestDemoOverKafka(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)
	runs := map[string]*demoRun{}
	for _, stream := range []string{"kinesis", "kafka"} {
		dir := filepath.Join(t.TempDir(), stream)
		var stdout, stderr bytes.Buffer
		run, err := runDemo(context.Background(), &cliEnv{stdout: &stdout, stderr: &stderr},
			demoOptions{stream: stream, events: 4000, hours: 3, shards: 3, seed: 9, dir: dir, now: func() time.Time { return now }})
		if err != nil {
			t.Fatalf("%s: %v\n%s", stream, err, stderr.String())
		}
		if !run.report.Reconciled.OK() || !strings.Contains(stdout.String(), "reconciliation OK") {
			t.Fatalf("%s: reconciliation %v", stream, run.report.Reconciled.Problems)
		}
		runs[stream] = run
		if stream == "kafka" {
			keys, _ := filepath.Glob(filepath.Join(dir, "views", "speed", "dt=*", "hour=*", "demo-*-*-*.parquet"))
			if len(keys) == 0 {
				entries, _ := os.ReadDir(filepath.Join(dir, "views", "speed"))
				t.Fatalf("no speed object keyed <topic>-<partition>-<first>-<last>: %v", entries)
			}
		}
	}
	k, m := runs["kafka"].report, runs["kinesis"].report
	if !maps.Equal(k.Raw, m.Raw) || !maps.Equal(k.Reconciled.Events, m.Reconciled.Events) || k.Reconciled.Expected != m.Reconciled.Expected {
		t.Fatalf("Kafka and Kinesis runs differ: raw %v vs %v, events %v vs %v", k.Raw, m.Raw, k.Reconciled.Events, m.Reconciled.Events)
	}
	if code, _, errOut := runCLI(t, "", "demo", "--stream", "sqs"); code != 2 || !strings.Contains(errOut, "want kinesis or kafka") {
		t.Fatalf("--stream sqs: exit %d: %s", code, errOut)
	}
}
