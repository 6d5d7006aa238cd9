package batch

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// The fast path is a subset of the full parser with the same result:
// whatever it accepts, event.ParseEnrichedLean accepts with the same
// fields; canonical lines are accepted; mutated lines either fall back or
// agree.
func TestCanonicalAgreesWithFullParser(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	var lines [][]byte
	for i := 0; i < 3000; i++ {
		e := event.Event{
			EventID: fmt.Sprintf("id-%d", i), EventType: []string{"click", "page_view", "a.b-c_d"}[i%3],
			EventTime: base.Add(time.Duration(r.Int64N(int64(48 * time.Hour)))).Truncate(time.Millisecond),
			UserID:    fmt.Sprintf("u%d", r.IntN(100)), Source: []string{"web", "unknown", "ios"}[i%3],
			ReceivedTime: base.Add(49 * time.Hour),
		}
		if i%2 == 0 {
			e.Value, e.HasValue = []float64{0, 1.5, -3, 1e21, 123456.789, 5e-324}[i%6], true
		}
		if i%5 == 0 {
			e.SessionID = "s1"
		}
		if i%7 == 0 {
			e.Attributes = map[string]string{"k": "v", "x}": "{y", "n": ""}
		}
		line := e.AppendJSON(nil)
		if _, ok := parseCanonical(line); !ok {
			t.Fatalf("canonical line refused: %s", line)
		}
		lines = append(lines, line)
	}
	check := func(line []byte) {
		t.Helper()
		c, ok := parseCanonical(line)
		if !ok {
			return
		}
		e, err := event.ParseEnrichedLean(line)
		if err != nil {
			t.Fatalf("fast path accepted what the full parser rejects (%v): %q", err, line)
		}
		if string(c.id) != e.EventID || string(c.typ) != e.EventType || string(c.user) != e.UserID ||
			string(c.src) != e.Source || c.value != e.Value || c.millis != e.EventTime.UnixMilli() {
			t.Fatalf("fast path and full parser differ on %q: %+v vs %+v", line, c, e)
		}
	}
	for _, l := range lines {
		check(l)
		for k := 0; k < 20; k++ {
			m := append([]byte(nil), l...)
			m[r.IntN(len(m))] = "\"\\{}:,.0123456789eE-+ aZT\x01\xff"[r.IntN(26)]
			check(m)
		}
	}
	for _, bad := range []string{
		`{"event_id":"a","event_type":"click","event_time":"2026-02-30T00:00:00.000Z","user_id":"u","source":"web","received_time":"2026-11-21T00:00:00.000Z","dt":"x","hour":"y"}`,
		`{"event_id":"a","event_type":"click","event_time":"2026-02-01T00:00:00.000Z","user_id":"u","source":"web","value":01,"received_time":"2026-11-21T00:00:00.000Z","dt":"x","hour":"y"}`,
		`{"event_id":"","event_type":"click","event_time":"2026-02-01T00:00:00.000Z","user_id":"u","source":"web","received_time":"2026-11-21T00:00:00.000Z","dt":"x","hour":"y"}`,
	} {
		if _, ok := parseCanonical([]byte(bad)); ok {
			t.Errorf("fast path accepted %s", bad)
		}
	}
}
