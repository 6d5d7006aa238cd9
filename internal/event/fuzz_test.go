package event_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lambdastack/lambdastack/internal/event"
)

// FuzzValidate checks that no input panics, that every input is accepted or
// rejected with a known reason, and that the scanner agrees with
// encoding/json: what we accept is valid JSON with the same field values, and
// what encoding/json finds invalid we reject. Its seed corpus (the golden
// inputs and a few edge cases) runs in every go test.
func FuzzValidate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{good, "", "{}", "null", `{"event_id":"\ud800"}`, `{"a":[{}]}`, `{"event_time":-0}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00.Z","user_id":"u"}`, "{\"\xc0\":1}",
		`{"event_id":"e","event_id":null,"event_type":"a","event_time":0,"user_id":"u"}`} {
		f.Add([]byte(s))
	}
	known := map[event.Reason]bool{}
	for _, r := range event.Reasons() {
		known[r] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, rej := event.Validate(data, received)
		if rej != nil {
			if !known[rej.Reason] || rej.Detail == "" {
				t.Fatalf("unknown reason or empty detail: %#v", rej)
			}
			if len(data) <= event.MaxRecordBytes && utf8.Valid(data) && !json.Valid(data) && rej.Reason != event.ReasonInvalidJSON {
				t.Fatalf("encoding/json finds %q invalid, we said %v", data, rej)
			}
			if rej.Reason == event.ReasonInvalidJSON && json.Valid(data) {
				var v any
				_ = json.Unmarshal(data, &v)
				if _, isObject := v.(map[string]any); isObject {
					t.Fatalf("encoding/json accepts the object %q, we said %v", data, rej)
				}
			}
			return
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("accepted %q which encoding/json rejects: %v", data, err)
		}
		for field, got := range map[string]string{"event_id": e.EventID, "event_type": e.EventType, "user_id": e.UserID} {
			if m[field] != got {
				t.Fatalf("%s: we read %q, encoding/json %q", field, got, m[field])
			}
		}
		if v, ok := m["value"].(float64); ok && (!e.HasValue || (v != e.Value && !(math.IsNaN(v)))) {
			t.Fatalf("value: we read %v (%v), encoding/json %v", e.Value, e.HasValue, v)
		}
		if e.EventTime.After(received.Add(event.MaxFutureSkew)) || e.EventTime.Location() != time.UTC {
			t.Fatalf("event_time %v not normalized or in the future", e.EventTime)
		}
		line := e.AppendJSON(nil)
		if !json.Valid(line) {
			t.Fatalf("AppendJSON wrote invalid JSON %q", line)
		}
		back, err := event.ParseEnriched(line)
		if err != nil {
			t.Fatalf("ParseEnriched(%q): %v", line, err)
		}
		if again := back.AppendJSON(nil); string(again) != string(line) {
			t.Fatalf("round trip:\n%q\n%q", line, again)
		}
	})
}

// FuzzAppendEnriched checks that the one-scan path agrees with Validate and
// AppendJSON on every input: the same bytes for an accepted event, the same
// rejection otherwise.
func FuzzAppendEnriched(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{good, "{}", `{"event_id":"e","event_type":"a","event_time":1767225600000,"user_id":"u","value":-0,"attributes":{}}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00+14:00","user_id":"u","attributes":{"b":"1","a":"2","c":"3"}}`,
		`{"event_id":"e","event_type":"a","event_time":"0000-01-01T00:00:00+01:00","user_id":"u","session_id":"","source":""}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":"u","attributes":{"a":"1","a":"2"}}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00.123456789Z","user_id":"u","value":1e300,"x":[1,{"y":null}]}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":"u"}`,
		`{"event_id":"e","event_type":"a","event_time":"0000-02-29T23:59:59.999Z","user_id":"u"}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-02-29T10:00:00.000Z","user_id":"u"}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T12:15:00.001Z","user_id":"u"}`} {
		f.Add([]byte(s))
	}
	var en event.Enricher // shared, so its received-time cache is exercised
	f.Fuzz(func(t *testing.T, data []byte) {
		// The cache must follow a change of received time.
		other := received.Add(-time.Duration(len(data)) * time.Hour)
		_, _ = en.Append(nil, data, other)
		if got2, rej2 := en.Append([]byte("prefix"), data, received); func() bool {
			got1, rej1 := event.AppendEnriched([]byte("prefix"), data, received)
			return string(got1) != string(got2) || (rej1 == nil) != (rej2 == nil) || (rej1 != nil && *rej1 != *rej2)
		}() {
			t.Fatalf("Enricher.Append and AppendEnriched differ on %q", data)
		}
		got, rej := event.AppendEnriched([]byte("prefix"), data, received)
		e, want := event.Validate(data, received)
		if (rej == nil) != (want == nil) {
			t.Fatalf("AppendEnriched rejection %v, Validate %v", rej, want)
		}
		if want != nil {
			if *rej != *want || string(got) != "prefix" {
				t.Fatalf("rejections differ: %v vs %v (dst %q)", rej, want, got)
			}
			return
		}
		line := e.AppendJSON([]byte("prefix"))
		if string(got) != string(line) {
			t.Fatalf("lines differ:\n got %s\nwant %s", got, line)
		}
		dt, hour, ok := event.LinePartition(got)
		if !ok || string(dt) != e.Dt() || string(hour) != e.Hour() {
			t.Fatalf("LinePartition(%s) = %s %s %v", got, dt, hour, ok)
		}
	})
}
