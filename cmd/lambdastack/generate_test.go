package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
)

// The done-when check of issue 2 at small scale: validate reports exactly
// the rejections generate says it wrote, by reason, and the duplicates.
// The default --start is used, so the good events are checked against the
// real clock as a user's run would be.
func TestGenerateThenValidateAgree(t *testing.T) {
	dir := t.TempDir()
	events, sumFile := filepath.Join(dir, "e.ndjson"), filepath.Join(dir, "summary.json")
	code, stdout, stderr := runCLI(t, "", "generate", "--events", "20000", "--seed", "1", "--bad-ratio", "0.05",
		"--dup-ratio", "0.02", "--out", events, "--summary", sumFile)
	if code != 0 || stdout != "" {
		t.Fatalf("generate: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	var sum, sumStderr gen.Summary
	data, err := os.ReadFile(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		t.Fatalf("summary file: %v", err)
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(stderr)), &sumStderr); err != nil {
		t.Fatalf("summary on stderr %q: %v", stderr, err)
	}
	if sumStderr.Events != sum.Events || sumStderr.RejectedTotal != sum.RejectedTotal {
		t.Errorf("stderr summary %+v differs from the file's %+v", sumStderr, sum)
	}

	for _, args := range [][]string{{"validate", "--json", events}, {"validate", "--json", "--file", events}} {
		code, stdout, stderr = runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, %s", args, code, stderr)
		}
		var rep validateReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatalf("validate --json output %q: %v", stdout, err)
		}
		if rep.Records != sum.Events || rep.Accepted != sum.Accepted || rep.Duplicates != sum.Duplicates ||
			rep.RejectedTotal != sum.RejectedTotal {
			t.Errorf("validate %+v, generate %+v", rep, sum)
		}
		for _, r := range event.Reasons() {
			if rep.Rejected[r] != sum.Rejected[r] || sum.Rejected[r] == 0 {
				t.Errorf("%s: validate counts %d, generate wrote %d (want equal, not zero)", r, rep.Rejected[r], sum.Rejected[r])
			}
		}
	}

	// The table names every reason with the generated count.
	code, stdout, _ = runCLI(t, "", "validate", events)
	if code != 0 {
		t.Fatalf("validate: exit %d", code)
	}
	for _, r := range event.Reasons() {
		if !strings.Contains(stdout, string(r)) {
			t.Errorf("table lacks %s:\n%s", r, stdout)
		}
	}
	code, stdout, stderr = runCLI(t, "", "validate", "--expect", sumFile, events)
	if code != 0 || !strings.Contains(stdout, "matches the generator's summary") {
		t.Errorf("validate --expect with the right summary: exit %d, %s%s", code, stdout, stderr)
	}
	// A summary that claims one more not_utf8 record must not match.
	sum.Rejected[event.ReasonNotUTF8]++
	wrong, _ := json.Marshal(sum)
	wrongFile := filepath.Join(dir, "wrong.json")
	if err := os.WriteFile(wrongFile, wrong, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "", "validate", "--expect", wrongFile, events)
	if code != 1 || !strings.Contains(stderr, "not_utf8") {
		t.Errorf("validate --expect with a wrong summary: exit %d, stderr %q; want 1 naming not_utf8", code, stderr)
	}
	if code, _, _ = runCLI(t, "", "validate", "--strict", events); code != 1 {
		t.Errorf("validate --strict with rejections: exit %d, want 1", code)
	}
}

func TestValidateStdinAndEdges(t *testing.T) {
	in := `{"event_id":"a","event_type":"click","event_time":"2026-01-01T00:00:00Z","user_id":"u"}` + "\n\n" +
		`{"event_id":"a","event_type":"click","event_time":1767225600000,"user_id":"u"}` + "\n" +
		`not json` + "\n" +
		`{"event_id":"b","event_type":"click","event_time":"2026-01-01T00:00:00Z","user_id":"u","attributes":{"p":"` +
		strings.Repeat("x", 70000) + `"}}` + "\n" +
		`{"event_id":"c","event_type":"click","event_time":"2026-01-01T00:00:00Z"}` // no final newline
	code, stdout, stderr := runCLI(t, in, "validate", "--json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep validateReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Records != 5 || rep.Accepted != 2 || rep.Duplicates != 1 || rep.BlankLines != 1 ||
		rep.Rejected[event.ReasonInvalidJSON] != 1 || rep.Rejected[event.ReasonTooLarge] != 1 ||
		rep.Rejected[event.ReasonMissingField] != 1 || rep.RejectedTotal != 3 {
		t.Errorf("report %+v", rep)
	}
	if code, _, stderr = runCLI(t, "", "validate", "a", "b"); code != 2 {
		t.Errorf("two files: exit %d (%s), want 2", code, stderr)
	}
	if code, _, _ = runCLI(t, "", "validate", filepath.Join(t.TempDir(), "missing")); code != 1 {
		t.Errorf("missing file: exit %d, want 1", code)
	}
}

func TestGenerateFlags(t *testing.T) {
	code, a, _ := runCLI(t, "", "generate", "--events", "50", "--seed", "9", "--start", "2026-02-03T04", "--bad-ratio", "0.2")
	_, b, _ := runCLI(t, "", "generate", "--events", "50", "--seed", "9", "--start", "2026-02-03T04:00:00Z", "--bad-ratio", "0.2")
	if code != 0 || a != b || strings.Count(a, "\n") != 50 {
		t.Errorf("same seed and start: exit %d, equal %v, %d lines", code, a == b, strings.Count(a, "\n"))
	}
	code, out, stderr := runCLI(t, "", "generate", "--events", "30", "--format", "kinesis", "--batch", "10", "--start", "2026-02-03")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"eventSource":"aws:kinesis"`) {
		t.Errorf("kinesis format: exit %d, %d lines, stderr %s", code, strings.Count(out, "\n"), stderr)
	}
	for _, args := range [][]string{
		{"generate", "--format", "xml"},
		{"generate", "--start", "yesterday"},
		{"generate", "--types", "0"},
		{"generate", "extra"},
	} {
		if code, _, _ := runCLI(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, _ := runCLI(t, "", "generate", "--bad-ratio", "2"); code == 0 {
		t.Error("--bad-ratio 2 accepted")
	}
	code, out, _ = runCLI(t, "", "generate", "--help")
	if code != 0 || !strings.Contains(out, "--bad-ratio") && !strings.Contains(out, "-bad-ratio") {
		t.Errorf("generate --help: exit %d, output %q", code, out)
	}
}
