package event_test

import (
	"encoding/json"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
)

// BenchmarkValidateEnrich measures one ~300-byte event through Validate and
// AppendJSON, the per-record work of the Firehose transform.
func BenchmarkValidateEnrich(b *testing.B) {
	rec := []byte(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-6c2d1d7e8f10","event_type":"page_view","event_time":"2026-11-22T10:59:59.999Z",` +
		`"user_id":"user-000042","session_id":"sess-000009","source":"web","value":12.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		e, rej := event.Validate(rec, received)
		if rej != nil {
			b.Fatal(rej)
		}
		buf = e.AppendJSON(buf[:0])
	}
}

// BenchmarkAppendEnriched is the same record through the one-scan path
// the transform uses.
func BenchmarkAppendEnriched(b *testing.B) {
	rec := []byte(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-6c2d1d7e8f10","event_type":"page_view","event_time":"2026-11-22T10:59:59.999Z",` +
		`"user_id":"user-000042","session_id":"sess-000009","source":"web","value":12.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		var rej *event.Rejection
		if buf, rej = event.AppendEnriched(buf[:0], rec, received); rej != nil {
			b.Fatal(rej)
		}
	}
}

// BenchmarkValidateLean is the same record through the validation the
// speed layer and the batch read use (attributes checked, not kept).
func BenchmarkValidateLean(b *testing.B) {
	buf := benchRecord()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, rej := event.ValidateLean(buf, received); rej != nil {
			b.Fatal(rej)
		}
	}
}

// BenchmarkUnmarshalMap is the reference for the package's own scanner:
// encoding/json reading the same record into a map, before any of the
// event model's checks (which also need the key order and repeats it
// hides).
func BenchmarkUnmarshalMap(b *testing.B) {
	buf := benchRecord()
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(buf, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRecord() []byte {
	return []byte(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-6c2d1d7e8f10","event_type":"page_view","event_time":"2026-11-22T10:59:59.999Z",` +
		`"user_id":"user-000042","session_id":"sess-000009","source":"web","value":12.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`)
}
