package agg_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/hll"
)

// part builds an aggregate from events (fingerprint, user, value) drawn from
// small ranges so that parts overlap, as redelivered batches do.
func part(track bool, seed uint64, n int) *agg.Aggregate {
	r := rand.New(rand.NewPCG(seed, 7))
	a := agg.New(track)
	for i := 0; i < n; i++ {
		fp := uint64(r.IntN(200))
		// The value is a function of the event, as a redelivered event
		// carries the same value.
		a.Add(fp, agg.UserHash(fmt.Sprint(r.IntN(50))), float64(fp)*0.25)
	}
	a.Normalize()
	return a
}

func merged(parts ...*agg.Aggregate) *agg.Aggregate {
	out := parts[0].Clone()
	for _, p := range parts[1:] {
		if err := out.Merge(p); err != nil {
			panic(err)
		}
	}
	return out
}

func sketchBytes(a *agg.Aggregate) string {
	b, err := a.Users.MarshalBinary()
	if err != nil {
		panic(err)
	}
	return string(b)
}

func same(a, b *agg.Aggregate) bool {
	return a.Events == b.Events && a.ValueSum == b.ValueSum && sketchBytes(a) == sketchBytes(b)
}

func TestMergeIsAssociativeAndCommutative(t *testing.T) {
	for _, track := range []bool{true, false} {
		t.Run(fmt.Sprintf("track=%v", track), func(t *testing.T) {
			prop := func(s1, s2, s3 uint64, n1, n2, n3 uint8) bool {
				a, b, c := part(track, s1, int(n1)), part(track, s2, int(n2)), part(track, s3, int(n3))
				ab := merged(a, b)
				ba := merged(b, a)
				left := merged(merged(a, b), c)
				right := merged(a, merged(b, c))
				if track {
					return same(ab, ba) && same(left, right)
				}
				// Untracked sums may differ in the last bits with order.
				close := func(x, y *agg.Aggregate) bool {
					return x.Events == y.Events && sketchBytes(x) == sketchBytes(y) &&
						math.Abs(x.ValueSum-y.ValueSum) <= 1e-9*math.Max(1, math.Abs(x.ValueSum))
				}
				return close(ab, ba) && close(left, right)
			}
			if err := quick.Check(prop, &quick.Config{MaxCount: 300}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTrackedMergeCountsRedeliveryOnce(t *testing.T) {
	a, b := agg.New(true), agg.New(true)
	a.Add(agg.Fingerprint("e1"), agg.UserHash("u1"), 10)
	a.Add(agg.Fingerprint("e2"), agg.UserHash("u2"), 5)
	if a.Add(agg.Fingerprint("e2"), agg.UserHash("u2"), 5) {
		t.Fatal("duplicate inside one aggregate was counted")
	}
	b.Add(agg.Fingerprint("e2"), agg.UserHash("u2"), 5) // redelivered in another batch
	b.Add(agg.Fingerprint("e3"), agg.UserHash("u1"), 1)
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if a.Events != 3 || a.ValueSum != 16 || a.UsersEstimate() != 2 {
		t.Fatalf("got events %d sum %v users %d, want 3 16 2", a.Events, a.ValueSum, a.UsersEstimate())
	}
}

func TestUsersEstimateError(t *testing.T) {
	for _, n := range []int{1_000, 100_000, 1_000_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			// Split the users across 4 parts with overlap, merge, compare.
			parts := make([]*agg.Aggregate, 4)
			for i := range parts {
				parts[i] = agg.New(false)
			}
			for u := 0; u < n; u++ {
				h := agg.UserHash(fmt.Sprintf("user-%d", u))
				parts[u%4].Add(0, h, 0)
				if u%10 == 0 {
					parts[(u+1)%4].Add(0, h, 0) // the same user seen in another part
				}
			}
			est := merged(parts...).UsersEstimate()
			if rel := math.Abs(float64(est)-float64(n)) / float64(n); rel > 3*hll.StandardError {
				t.Fatalf("estimate %d for %d users: error %.4f > 3 standard errors (%.4f)", est, n, rel, 3*hll.StandardError)
			} else {
				t.Logf("estimate %d for %d users: error %.4f", est, n, rel)
			}
		})
	}
}

func TestRollupAndWindows(t *testing.T) {
	tb := agg.Table{}
	base := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 24; h++ {
		k := agg.Key{WindowStart: base.Add(time.Duration(h) * time.Hour), EventType: "click", Source: "web"}
		// The same user every hour: users do not add up across hours.
		tb.Get(k, false).Add(0, agg.UserHash("u"), 1)
	}
	day, err := tb.Rollup(agg.Day)
	if err != nil {
		t.Fatal(err)
	}
	a := day[agg.Key{WindowStart: base, EventType: "click", Source: "web"}]
	if len(day) != 1 || a.Events != 24 || a.ValueSum != 24 || a.UsersEstimate() != 1 {
		t.Fatalf("day rollup: %d rows, %+v", len(day), a)
	}
	if w := agg.Window(time.Date(2026, 11, 22, 13, 59, 59, 0, time.FixedZone("x", 3600)), agg.Hour); !w.Equal(base.Add(12 * time.Hour)) {
		t.Fatalf("hour window %v", w)
	}
	if _, err := agg.ParseGranularity("week"); err == nil {
		t.Fatal("accepted granularity week")
	}
}
