package event_test

import (
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
