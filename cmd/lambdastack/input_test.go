package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/queries"
)

// Wrong input is an error that says what was expected where, printed once,
// with a non-zero exit.
func TestWrongInputIsAnError(t *testing.T) {
	top := t.TempDir()
	// A raw location one level down, as demo writes it: top/raw/events/….
	rawHour := filepath.Join(top, "raw", "events", "dt=2026-11-21", "hour=10")
	if err := os.MkdirAll(rawHour, 0o755); err != nil {
		t.Fatal(err)
	}
	line := `{"event_id":"a","event_type":"click","event_time":"2026-11-21T10:00:00Z","user_id":"u"}` + "\n"
	if err := os.WriteFile(filepath.Join(rawHour, "part-1.json"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	ndjson := filepath.Join(top, "events.ndjson")
	empty := filepath.Join(top, "empty.ndjson")
	for f, data := range map[string]string{ndjson: line, empty: ""} {
		if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(top, "out")
	missing := filepath.Join(top, "nonexistent")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // each in stderr
	}{
		{"batch: only --out missing", []string{"batch", "--raw", top}, 2, []string{"lambdastack batch: --out is required\n"}},
		{"batch: both missing", []string{"batch"}, 2, []string{"--out and --raw are required"}},
		{"batch: no such location", []string{"batch", "--raw", missing, "--out", out}, 1,
			[]string{"no raw events", "expected objects at events/dt=YYYY-MM-DD/hour=HH/ under " + missing + "/events/"}},
		{"batch: one level too high", []string{"batch", "--raw", top, "--out", out}, 1,
			[]string{"no raw events", "did you mean " + filepath.Join(top, "raw") + "?"}},
		{"merge: no manifest", []string{"merge", "--batch", missing}, 1,
			[]string{"no published batch view", missing + "/batch/_manifest.json"}},
		{"merge: --speed and --no-speed", []string{"merge", "--batch", top, "--speed", top, "--no-speed"}, 2,
			[]string{"--speed and --no-speed exclude each other"}},
		{"query: no such directory", []string{"query", "top_event_types", "--local", missing}, 1, []string{"--local " + missing}},
		{"query: no data", []string{"query", "top_event_types", "--local", out}, 1,
			[]string{"no data under --local " + out, "lambdastack demo --dir " + out}},
		{"speed: NDJSON instead of Kinesis events", []string{"speed", "--event", ndjson, "--out", out}, 1,
			[]string{"value 1 of " + ndjson + " is not a Kinesis or Kafka event with records", "generate --format kinesis"}},
		{"speed: empty event file", []string{"speed", "--event", empty, "--out", out}, 1,
			[]string{"no Kinesis or Kafka events in " + empty}},
		{"validate: empty input", []string{"validate", empty}, 1, []string{"no records in " + empty}},
		{"transform: empty event file", []string{"transform", "--event", empty}, 1,
			[]string{"no Firehose events in " + empty}},
		{"transform: NDJSON instead of Firehose events", []string{"transform", "--event", ndjson}, 1,
			[]string{"value 1 of " + ndjson + " is not a Firehose event with records", "generate --format firehose"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(out, 0o755); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if n := strings.Count(stderr, "lambdastack "+tc.args[0]+":"); n != 1 {
				t.Errorf("the error is printed %d times:\n%s", n, stderr)
			}
			if objs, _ := filepath.Glob(filepath.Join(out, "*", "_manifest.json")); len(objs) > 0 {
				t.Errorf("published %v", objs)
			}
		})
	}
}

// Flag mistakes are printed once, spelled as the usage spells them; a typo
// of a command gets a suggestion.
func TestMessages(t *testing.T) {
	code, _, stderr := runCLI(t, "", "query", "top_event_types", "--param", "bad", "--local", t.TempDir())
	if code != 2 || strings.Count(stderr, "bad") != 1 || !strings.Contains(stderr, `invalid value "bad" for flag --param: want name=value`) {
		t.Errorf("bad --param: exit %d, want one error naming --param:\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "batch", "--rwa", "x")
	if code != 2 || !strings.HasPrefix(stderr, "lambdastack batch: unknown flag --rwa\n") || strings.Count(stderr, "rwa") != 1 {
		t.Errorf("unknown flag: exit %d:\n%s", code, stderr)
	}
	for typo, want := range map[string]string{"genrate": "generate", "merg": "merge", "qeury": "query", "xyzzy": ""} {
		_, _, stderr := runCLI(t, "", typo)
		first, _, _ := strings.Cut(stderr, "\n")
		if got := strings.Contains(first, "did you mean "+want+"?"); want != "" && !got {
			t.Errorf("%s: %q, want a suggestion of %s", typo, first, want)
		} else if want == "" && strings.Contains(first, "did you mean") {
			t.Errorf("%s: %q, want no suggestion", typo, first)
		}
	}
	q, err := queries.Get("raw_events_hour")
	if err != nil || q.Limit != 1000 {
		t.Errorf("raw_events_hour: Limit %d (%v), want its LIMIT 1000", q.Limit, err)
	}
}
