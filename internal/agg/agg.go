package agg

import (
	"fmt"
	"slices"
	"sort"
	"time"

	metro "github.com/dgryski/go-metro"

	"github.com/lambdastack/lambdastack/internal/hll"
)

// Granularity is the window size of an aggregate.
type Granularity string

const (
	Hour Granularity = "hour"
	Day  Granularity = "day"
)

// ParseGranularity reads "hour" or "day".
func ParseGranularity(s string) (Granularity, error) {
	switch Granularity(s) {
	case Hour, Day:
		return Granularity(s), nil
	}
	return "", fmt.Errorf("granularity %q: want hour or day", s)
}

// Window returns the start of the window of g that holds t, in UTC.
func Window(t time.Time, g Granularity) time.Time {
	t = t.UTC()
	if g == Day {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	return t.Truncate(time.Hour)
}

// Key identifies one aggregate row.
type Key struct {
	WindowStart time.Time // UTC
	EventType   string
	Source      string
}

// Less orders keys by window, then event_type, then source.
func (k Key) Less(o Key) bool {
	if !k.WindowStart.Equal(o.WindowStart) {
		return k.WindowStart.Before(o.WindowStart)
	}
	if k.EventType != o.EventType {
		return k.EventType < o.EventType
	}
	return k.Source < o.Source
}

const fingerprintSeed = 0x6c616d6264617374 // "lambdast"

// Fingerprint is the 64-bit MetroHash of an event_id: the identity the speed
// layer and the merge deduplicate by. For n distinct event_ids in one window
// the chance that any two share a fingerprint is at most n(n-1)/2^65: about
// 2.7e-8 for a million events and 2.7e-6 for ten million, and a collision can
// only undercount by one event.
func Fingerprint(eventID string) uint64 { return metro.Hash64Str(eventID, fingerprintSeed) }

// UserHash is the 64-bit hash of a user_id inserted into the sketch: the
// hash Athena's approx_set gives the same varchar.
func UserHash(userID string) uint64 { return hll.HashString(userID) }

// Aggregate is the mergeable state of one key.
type Aggregate struct {
	Events   int64
	ValueSum float64
	Users    *hll.Sketch
	// Seen maps the fingerprint of every counted event to its value when
	// the aggregate tracks fingerprints; nil otherwise.
	Seen map[uint64]float64
}

// New returns an empty aggregate; track keeps the fingerprints of the
// events counted.
func New(track bool) *Aggregate {
	a := &Aggregate{Users: hll.New()}
	if track {
		a.Seen = map[uint64]float64{}
	}
	return a
}

// Tracked reports whether a keeps fingerprints.
func (a *Aggregate) Tracked() bool { return a.Seen != nil }

// Add counts one event. With tracking, an event whose fingerprint was
// already counted is ignored and Add returns false. Without tracking the
// caller must have deduplicated.
func (a *Aggregate) Add(fingerprint, userHash uint64, value float64) bool {
	if a.Seen != nil {
		if _, dup := a.Seen[fingerprint]; dup {
			return false
		}
		a.Seen[fingerprint] = value
	}
	a.Events++
	a.ValueSum += value
	a.Users.AddHash(userHash)
	return true
}

// Merge adds b into a. Where both track fingerprints, events counted by both
// are counted once. Where either does not, the two are taken to count
// disjoint events and a stops tracking.
func (a *Aggregate) Merge(b *Aggregate) error {
	if err := a.Users.Union(b.Users); err != nil {
		return fmt.Errorf("merging user sketches: %w", err)
	}
	if a.Seen != nil && b.Seen != nil {
		for fp, v := range b.Seen {
			if _, dup := a.Seen[fp]; !dup {
				a.Seen[fp] = v
			}
		}
		a.Events = int64(len(a.Seen))
		a.ValueSum = sumSorted(a.Seen)
		return nil
	}
	a.Seen = nil
	a.Events += b.Events
	a.ValueSum += b.ValueSum
	return nil
}

// sumSorted adds the values in fingerprint order, so a tracked aggregate's
// sum does not depend on the order its events were merged in.
func sumSorted(seen map[uint64]float64) float64 {
	fps := make([]uint64, 0, len(seen))
	for fp := range seen {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	var sum float64
	for _, fp := range fps {
		sum += seen[fp]
	}
	return sum
}

// Normalize makes a tracked aggregate's ValueSum the order-independent sum
// over its fingerprints (Add accumulates in arrival order).
func (a *Aggregate) Normalize() {
	if a.Seen != nil {
		a.Events = int64(len(a.Seen))
		a.ValueSum = sumSorted(a.Seen)
	}
}

// UsersEstimate is the distinct-user estimate: the sketch's cardinality, as
// Athena's cardinality() computes it.
func (a *Aggregate) UsersEstimate() int64 { return a.Users.Cardinality() }

// Clone returns a deep copy.
func (a *Aggregate) Clone() *Aggregate {
	c := &Aggregate{Events: a.Events, ValueSum: a.ValueSum, Users: a.Users.Clone()}
	if a.Seen != nil {
		c.Seen = make(map[uint64]float64, len(a.Seen))
		for k, v := range a.Seen {
			c.Seen[k] = v
		}
	}
	return c
}

// Fingerprints returns the tracked fingerprints in ascending order with
// their values, as the speed view stores them.
func (a *Aggregate) Fingerprints() ([]uint64, []float64) {
	fps := make([]uint64, 0, len(a.Seen))
	for fp := range a.Seen {
		fps = append(fps, fp)
	}
	slices.Sort(fps)
	vals := make([]float64, len(fps))
	for i, fp := range fps {
		vals[i] = a.Seen[fp]
	}
	return fps, vals
}

// Table is a set of aggregates by key.
type Table map[Key]*Aggregate

// Get returns the aggregate of k, creating it if needed.
func (t Table) Get(k Key, track bool) *Aggregate {
	a, ok := t[k]
	if !ok {
		a = New(track)
		t[k] = a
	}
	return a
}

// Merge adds every aggregate of o into t (cloning those t lacks).
func (t Table) Merge(o Table) error {
	for k, b := range o {
		if a, ok := t[k]; ok {
			if err := a.Merge(b); err != nil {
				return fmt.Errorf("merging %v: %w", k, err)
			}
			continue
		}
		t[k] = b.Clone()
	}
	return nil
}

// Keys returns the keys in order.
func (t Table) Keys() []Key {
	keys := make([]Key, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	return keys
}

// Rollup re-keys t to the windows of g (hour to day), merging aggregates
// that fall in the same window.
func (t Table) Rollup(g Granularity) (Table, error) {
	out := Table{}
	for _, k := range t.Keys() {
		nk := Key{WindowStart: Window(k.WindowStart, g), EventType: k.EventType, Source: k.Source}
		if a, ok := out[nk]; ok {
			if err := a.Merge(t[k]); err != nil {
				return nil, err
			}
			continue
		}
		out[nk] = t[k].Clone()
	}
	return out, nil
}
