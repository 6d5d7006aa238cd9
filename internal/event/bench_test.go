package event_test

import (
	"encoding/json"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
)

// BenchmarkValidateEnrich measures one ~300-byte event through Validate and
// AppendJSON, the per-record work of the Firehose transform.
func BenchmarkValidateEnrich(b *testing.B) {
	buf := make([]byte, 0, 1024)
	benchRecord(b, func(rec []byte) error {
		e, rej := event.Validate(rec, received)
		if rej != nil {
			return rej
		}
		buf = e.AppendJSON(buf[:0])
		return nil
	})
}

// BenchmarkAppendEnriched is the same record through the one-scan path
// the transform uses.
func BenchmarkAppendEnriched(b *testing.B) {
	buf := make([]byte, 0, 1024)
	benchRecord(b, func(rec []byte) error {
		var rej *event.Rejection
		if buf, rej = event.AppendEnriched(buf[:0], rec, received); rej != nil {
			return rej
		}
		return nil
	})
}

// BenchmarkValidateLean is the same record through the validation the
// speed layer and the batch read use (attributes checked, not kept).
func BenchmarkValidateLean(b *testing.B) {
	benchRecord(b, func(rec []byte) error {
		if _, rej := event.ValidateLean(rec, received); rej != nil {
			return rej
		}
		return nil
	})
}

// BenchmarkLeanValidator is ValidateLean through the fast path the speed
// layer uses (LeanValidator: no string copy).
func BenchmarkLeanValidator(b *testing.B) {
	var v event.LeanValidator
	benchRecord(b, func(rec []byte) error {
		if _, rej := v.Validate(rec, received); rej != nil {
			return rej
		}
		return nil
	})
}

// BenchmarkUnmarshalMap is the reference for the package's own scanner:
// encoding/json reading the same record into a map, before any of the
// event model's checks (which also need the key order and repeats it
// hides).
func BenchmarkUnmarshalMap(b *testing.B) {
	benchRecord(b, func(rec []byte) error {
		var m map[string]any
		return json.Unmarshal(rec, &m)
	})
}

// benchRecord runs fn on one ~300-byte event.
func benchRecord(b *testing.B, fn func(rec []byte) error) {
	rec := []byte(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-6c2d1d7e8f10","event_type":"page_view","event_time":"2026-11-22T10:59:59.999Z",` +
		`"user_id":"user-000042","session_id":"sess-000009","source":"web","value":12.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`)
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if err := fn(rec); err != nil {
			b.Fatal(err)
		}
	}
}
