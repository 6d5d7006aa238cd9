package gen_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
)

func testConfig(n int) gen.Config {
	return gen.Config{
		Seed: 7, Events: n, Start: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Hours: 3, Users: 500,
		Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.2, DupRatio: 0.05, LateRatio: 0.1,
	}
}

// Every record gets from the event model exactly what the generator says
// it is: good and duplicate records are accepted, bad ones rejected with
// the recorded reason.
func TestRecordsMatchEventModel(t *testing.T) {
	cfg := testConfig(20000)
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var bytesTotal int64
	counts := map[event.Reason]int{}
	var dups, late, good int
	for !g.Done() {
		rec := g.Next()
		if bytes.IndexByte(rec.Data, '\n') >= 0 {
			t.Fatalf("record contains a newline: %q", rec.Data)
		}
		bytesTotal += int64(len(rec.Data))
		e, rej := event.Validate(rec.Data, now)
		switch rec.Kind {
		case gen.Good, gen.Duplicate:
			if rej != nil {
				t.Fatalf("generated good record rejected (%v): %q", rej, rec.Data)
			}
			if rec.Kind == gen.Duplicate != seen[e.EventID] {
				t.Fatalf("kind %v but event_id seen before = %v: %q", rec.Kind, seen[e.EventID], rec.Data)
			}
			seen[e.EventID] = true
			if e.UserID != rec.UserID {
				t.Errorf("record user %q, partition key %q", e.UserID, rec.UserID)
			}
			if rec.Kind == gen.Duplicate {
				dups++
				continue
			}
			good++
			lag := rec.Arrival.Sub(e.EventTime)
			if rec.Late {
				late++
				if lag < 10*time.Minute || lag > 2*time.Hour {
					t.Errorf("late record lags %v behind arrival, want 10m..2h", lag)
				}
			} else if lag < 0 || lag > 6*time.Second { // 5s delay, and a second lost where the fraction is left out
				t.Errorf("on-time record lags %v behind arrival, want 0..6s", lag)
			}
		case gen.Bad:
			if rej == nil {
				t.Fatalf("bad record (%s) accepted: %q", rec.Reason, rec.Data)
			}
			if rej.Reason != rec.Reason {
				t.Fatalf("bad record meant as %s rejected as %s (%v): %.300q", rec.Reason, rej.Reason, rej, rec.Data)
			}
			counts[rec.Reason]++
		}
	}
	s := g.Summary()
	if s.Events != cfg.Events || s.Unique != good || s.Duplicates != dups || s.Late != late ||
		s.Accepted != good+dups || s.RecordBytes != bytesTotal {
		t.Errorf("summary %+v does not match the records (good %d, dups %d, late %d, bytes %d)", s, good, dups, late, bytesTotal)
	}
	total := 0
	min, max := cfg.Events, 0
	for _, r := range event.Reasons() {
		if s.Rejected[r] != counts[r] {
			t.Errorf("summary says %d %s, records have %d", s.Rejected[r], r, counts[r])
		}
		total += counts[r]
		min, max = minInt(min, counts[r]), maxInt(max, counts[r])
	}
	if total != s.RejectedTotal || max-min > 1 {
		t.Errorf("rejections by reason %v: want every reason, evenly spread (total %d)", counts, s.RejectedTotal)
	}
	// The shares are near what was asked for.
	for name, c := range map[string]struct{ got, want float64 }{
		"bad":  {float64(total) / float64(cfg.Events), cfg.BadRatio},
		"dup":  {float64(dups) / float64(cfg.Events), cfg.DupRatio},
		"late": {float64(late) / float64(good), cfg.LateRatio},
	} {
		if c.got < c.want*0.85 || c.got > c.want*1.15 {
			t.Errorf("%s share %.4f, want about %.4f", name, c.got, c.want)
		}
	}
}

func minInt(a, b int) int { return min(a, b) }
func maxInt(a, b int) int { return max(a, b) }
