package batch

import (
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// canonicalLine is one enriched line as the transform writes it.
func canonicalLine(b *testing.B) []byte {
	e := event.Event{EventID: "0b4f6a1e-7c1d-4c7e-9a39-6c2d1d7e8f10", EventType: "page_view",
		EventTime: time.Date(2026, 11, 22, 10, 59, 59, 999e6, time.UTC), UserID: "user-000042", SessionID: "sess-000009",
		Source: "web", Value: 12.5, HasValue: true, Attributes: map[string]string{"path": "/pricing", "referrer": "https://example.com/"},
		ReceivedTime: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)}
	line := e.AppendJSON(nil)
	if _, ok := parseCanonical(line); !ok {
		b.Fatalf("not canonical: %s", line)
	}
	return line
}

// BenchmarkParseCanonical is the batch read's fast path on one enriched
// line; BenchmarkParseEnrichedLean is the full parser it stands in front
// of, on the same line:
//
//	go test -run '^$' -bench 'ParseCanonical|ParseEnrichedLean' -cpu 1 -count 3 ./batch/
func BenchmarkParseCanonical(b *testing.B) {
	line := canonicalLine(b)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, ok := parseCanonical(line); !ok {
			b.Fatal("fell back")
		}
	}
}

func BenchmarkParseEnrichedLean(b *testing.B) {
	line := canonicalLine(b)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := event.ParseEnrichedLean(line); err != nil {
			b.Fatal(err)
		}
	}
}
