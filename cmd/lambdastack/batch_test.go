package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// batch then merge from the command line on a small raw directory.
func TestBatchMergeCommands(t *testing.T) {
	old := clock
	clock = func() time.Time { return time.Date(2026, 11, 21, 12, 30, 0, 0, time.UTC) }
	defer func() { clock = old }()
	raw, views := t.TempDir(), t.TempDir()
	hour := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var lines []byte
	for i, id := range []string{"a", "b", "b", "c"} {
		e := event.Event{EventID: id, EventType: "click", EventTime: hour.Add(time.Duration(i) * time.Minute),
			UserID: "u" + id, Source: "web", Value: 1.5, HasValue: true, ReceivedTime: hour.Add(time.Hour)}
		lines = append(e.AppendJSON(lines), '\n')
	}
	lines = append(lines, "{broken\n"...)
	dir := filepath.Join(raw, "events", "dt=2026-11-21", "hour=10")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "part-1.json"), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "batch", "--raw", raw, "--out", views, "--quiet")
	if code != 0 {
		t.Fatalf("batch: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"watermark 2026-11-21T12:00:00Z", "valid 4, duplicates 1, invalid_json 1"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("batch summary lacks %q:\n%s", want, stdout)
		}
	}
	code, _, stderr = runCLI(t, "", "merge", "--batch", views)
	if code != 1 || !strings.Contains(stderr, "no speed objects (--speed defaults to --batch)") || !strings.Contains(stderr, "--no-speed") {
		t.Errorf("merge with no speed objects: exit %d: %s", code, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "merge", "--batch", views, "--no-speed")
	if code != 0 || !strings.Contains(stdout, "rows 1 hour + 1 day") {
		t.Fatalf("merge: exit %d: %s%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "", "batch", "--raw", raw); code != 2 || !strings.Contains(stderr, "lambdastack batch: --out is required\n") {
		t.Errorf("batch without --out: exit %d, want 2 naming --out alone: %s", code, stderr)
	}
}
