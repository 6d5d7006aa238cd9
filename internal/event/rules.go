package event

import (
	"math"
	"time"
	"unicode/utf8"
)

// The field checks of the event contract. Every reader of events calls
// these, whatever the encoding: the JSON parser below, the transform's fast
// path (enrich.go), the batch layer's NDJSON fast path and its Parquet
// readers. Each takes a string or the bytes of one, so a fast path checks a
// value where it lies, without a copy.

// ValidUTF8 reports whether v is valid UTF-8, as every string of an event
// must be (a JSON record is checked whole).
func ValidUTF8[T ~string | ~[]byte](v T) bool {
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			return utf8.Valid([]byte(v[i:]))
		}
	}
	return true
}

// ValidEventID reports whether v is a valid event_id: 1..MaxEventIDBytes bytes.
func ValidEventID[T ~string | ~[]byte](v T) bool { return len(v) >= 1 && len(v) <= MaxEventIDBytes }

// ValidUserID reports whether v is a valid user_id: 1..MaxUserIDBytes bytes.
func ValidUserID[T ~string | ~[]byte](v T) bool { return len(v) >= 1 && len(v) <= MaxUserIDBytes }

// ValidSessionID reports whether v is a valid session_id: at most
// MaxSessionBytes bytes (empty is the same as absent).
func ValidSessionID[T ~string | ~[]byte](v T) bool { return len(v) <= MaxSessionBytes }

// ValidSource reports whether v is a valid source: at most MaxSourceBytes
// bytes (empty means DefaultSource).
func ValidSource[T ~string | ~[]byte](v T) bool { return len(v) <= MaxSourceBytes }

// ValidEventType reports whether v matches ^[a-z][a-z0-9_.-]{0,63}$.
func ValidEventType[T ~string | ~[]byte](v T) bool {
	if len(v) == 0 || len(v) > MaxEventTypeLen || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	for i := 1; i < len(v); i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ValidValue reports whether v is a valid value: finite.
func ValidValue(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ValidAttributeCount reports whether an event may have n attributes.
func ValidAttributeCount(n int) bool { return n <= MaxAttributes }

// Times of the event model lie in years 0000..9999 (UTC), the years an
// RFC 3339 time can write; epoch milliseconds in JSON are also
// non-negative (MinEpochMillis).
const (
	MinTimeMillis  = -62167219200000 // 0000-01-01T00:00:00.000Z
	MaxTimeMillis  = maxEpochMillis  // 9999-12-31T23:59:59.999Z
	MinEpochMillis = 0               // an integer event_time is epoch milliseconds, never before 1970
)

// ValidTimeMillis reports whether the instant ms (Unix milliseconds) can be
// an event's time.
func ValidTimeMillis(ms int64) bool { return ms >= MinTimeMillis && ms <= MaxTimeMillis }

// validTime is ValidTimeMillis for a time.Time (of a parsed RFC 3339
// text, so within a day of years 0000..9999, where UnixMilli is exact).
func validTime(t time.Time) bool { return ValidTimeMillis(t.UnixMilli()) }

// IsFuture reports whether an event time (Unix milliseconds) is too far
// after the time it was received: the future_time rule.
func IsFuture(eventMillis, receivedMillis int64) bool {
	return eventMillis > receivedMillis+MaxFutureSkew.Milliseconds()
}

// ParseTime parses an RFC 3339 time as the contract reads one (any offset,
// fraction optional, T and Z in either case) into UTC; false when it is
// not one or lies outside years 0000..9999 in UTC.
func ParseTime(v string) (time.Time, bool) {
	t, ok := parseRFC3339(v)
	return t, ok && validTime(t)
}

// Column is one nullable string field of a Columns row.
type Column struct {
	Value []byte
	Valid bool // false: null
}

// TimeColumn is one nullable time field of a Columns row, in Unix
// milliseconds. Bad marks a value that is present but is no time (an
// unparseable string, a number out of int64 range).
type TimeColumn struct {
	Millis int64
	Valid  bool
	Bad    bool
}

// Columns is one event as a columnar file (Parquet) holds it. Attributes
// are counted: Attributes entries, of which NullValues have a null value;
// HasAttributes is false for a null map.
type Columns struct {
	EventID, EventType, UserID, SessionID, Source Column
	EventTime, ReceivedTime                       TimeColumn
	Value                                         float64
	HasValue                                      bool
	Attributes, NullValues                        int
	HasAttributes                                 bool
}

// CheckColumns gives a columnar row the verdict Validate gives the same
// event as JSON with its fields in the contract's order (event_id,
// event_type, event_time, user_id, session_id, source, value, attributes),
// plus received_time as ParseEnriched reads it: the first field that breaks
// a rule decides the reason, then a missing required field, then
// future_time; a string that is not UTF-8 comes before all (Validate
// checks the record's bytes first). A null is an absent field. It returns
// nil for a valid row.
// Readers call it only for a row that failed one of the checks above, so
// the reason of every failure has this one owner.
func CheckColumns(c *Columns) *Rejection {
	for _, f := range [...]Column{c.EventID, c.EventType, c.UserID, c.SessionID, c.Source} {
		if !ValidUTF8(f.Value) {
			return reject(ReasonNotUTF8, "", "a string is not valid UTF-8")
		}
	}
	switch {
	case c.EventID.Valid && !ValidEventID(c.EventID.Value):
		return reject(ReasonBadValue, "event_id", "length %d bytes, want 1..%d", len(c.EventID.Value), MaxEventIDBytes)
	case c.EventType.Valid && !ValidEventType(c.EventType.Value):
		return reject(ReasonBadValue, "event_type", "%q does not match ^[a-z][a-z0-9_.-]{0,63}$", clip(string(c.EventType.Value)))
	case c.EventTime.Valid && (c.EventTime.Bad || !ValidTimeMillis(c.EventTime.Millis)):
		return reject(ReasonBadValue, "event_time", "not a time in years 0000..9999")
	case c.UserID.Valid && !ValidUserID(c.UserID.Value):
		return reject(ReasonBadValue, "user_id", "length %d bytes, want 1..%d", len(c.UserID.Value), MaxUserIDBytes)
	case c.SessionID.Valid && !ValidSessionID(c.SessionID.Value):
		return reject(ReasonBadValue, "session_id", "length %d bytes, the limit is %d", len(c.SessionID.Value), MaxSessionBytes)
	case c.Source.Valid && !ValidSource(c.Source.Value):
		return reject(ReasonBadValue, "source", "length %d bytes, the limit is %d", len(c.Source.Value), MaxSourceBytes)
	case c.HasValue && !ValidValue(c.Value):
		return reject(ReasonBadValue, "value", "%v is not a finite number", c.Value)
	case c.HasAttributes && c.NullValues > 0:
		return reject(ReasonBadType, "attributes", "%d null values, want strings", c.NullValues)
	case c.HasAttributes && !ValidAttributeCount(c.Attributes):
		return reject(ReasonBadValue, "attributes", "%d keys, the limit is %d", c.Attributes, MaxAttributes)
	case c.ReceivedTime.Valid && (c.ReceivedTime.Bad || !ValidTimeMillis(c.ReceivedTime.Millis)):
		return reject(ReasonBadValue, "received_time", "not a time in years 0000..9999")
	}
	for _, f := range [...]struct {
		name  string
		valid bool
	}{{"event_id", c.EventID.Valid}, {"event_type", c.EventType.Valid}, {"event_time", c.EventTime.Valid},
		{"user_id", c.UserID.Valid}, {"received_time", c.ReceivedTime.Valid}} {
		if !f.valid {
			return reject(ReasonMissingField, f.name, "required field is null")
		}
	}
	if IsFuture(c.EventTime.Millis, c.ReceivedTime.Millis) {
		return reject(ReasonFutureTime, "event_time", "more than %s after received_time", MaxFutureSkew)
	}
	return nil
}
