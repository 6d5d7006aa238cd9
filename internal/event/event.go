package event

import (
	"fmt"
	"time"
)

// Reason is a stable rejection reason code. Codes appear in storage paths
// (errors/<reason>/) and metrics: never rename one.
type Reason string

const (
	ReasonInvalidJSON  Reason = "invalid_json"  // not one well-formed JSON object
	ReasonNotUTF8      Reason = "not_utf8"      // bytes are not valid UTF-8
	ReasonTooLarge     Reason = "too_large"     // record longer than MaxRecordBytes
	ReasonMissingField Reason = "missing_field" // a required field is absent or null
	ReasonBadType      Reason = "bad_type"      // a field has the wrong JSON type
	ReasonBadValue     Reason = "bad_value"     // right type, value breaks a rule
	ReasonFutureTime   Reason = "future_time"   // event_time too far after received_time
)

// Reasons lists every reason code a record's bytes can earn, in a stable
// order.
func Reasons() []Reason {
	return []Reason{ReasonInvalidJSON, ReasonNotUTF8, ReasonTooLarge, ReasonMissingField,
		ReasonBadType, ReasonBadValue, ReasonFutureTime}
}

// ReasonTombstone is given to a Kafka record whose value is null (a
// tombstone): it has no bytes to judge, so no rule of Validate applies.
const ReasonTombstone Reason = "tombstone"

// StreamReasons is Reasons and the reasons the stream gives a record
// itself (ReasonTombstone): every code that can appear under errors/.
func StreamReasons() []Reason { return append(Reasons(), ReasonTombstone) }

// Limits of the event contract.
const (
	MaxRecordBytes   = 32 << 10 // a record longer than this is too_large
	MaxEventIDBytes  = 128
	MaxUserIDBytes   = 256
	MaxSessionBytes  = 256
	MaxSourceBytes   = 128
	MaxAttributes    = 50
	MaxEventTypeLen  = 64
	DefaultSource    = "unknown"
	MaxFutureSkew    = 15 * time.Minute // event_time may run this far ahead of received_time (clock skew)
	maxEpochMillis   = 253402300799999  // 9999-12-31T23:59:59.999Z
	timeLayoutMillis = "2006-01-02T15:04:05.000Z07:00"
)

// Event is one validated event. Times are UTC.
type Event struct {
	EventID    string
	EventType  string
	EventTime  time.Time
	UserID     string
	SessionID  string // "" when absent
	Source     string // DefaultSource when absent or empty
	Value      float64
	HasValue   bool
	Attributes map[string]string // nil when absent
	// ReceivedTime is when the pipeline received the event: set by
	// Validate, read back by ParseEnriched.
	ReceivedTime time.Time
}

// Dt is the date partition of the event (YYYY-MM-DD of EventTime in UTC).
func (e *Event) Dt() string { return e.EventTime.Format("2006-01-02") }

// Hour is the hour partition of the event ("00".."23", UTC).
func (e *Event) Hour() string {
	h := e.EventTime.Hour()
	return string([]byte{byte('0' + h/10), byte('0' + h%10)})
}

// Rejection says why a record was not accepted.
type Rejection struct {
	Reason Reason
	Field  string // the field at fault, "" for whole-record reasons
	Detail string // for people: what was wrong
}

func (r *Rejection) Error() string {
	if r.Field == "" {
		return fmt.Sprintf("%s: %s", r.Reason, r.Detail)
	}
	return fmt.Sprintf("%s: %s: %s", r.Reason, r.Field, r.Detail)
}

func reject(reason Reason, field, format string, a ...any) *Rejection {
	return &Rejection{Reason: reason, Field: field, Detail: fmt.Sprintf(format, a...)}
}

// Validate parses one JSON event and either returns it, normalized to UTC and
// stamped with received, or a rejection. Checks run in this order: size,
// UTF-8, JSON syntax, then the fields in the order they appear (type and
// value), then missing fields, then future_time. The first failure decides the
// reason. Unknown fields are allowed and ignored; for a repeated field the last
// occurrence wins, as in encoding/json.
func Validate(data []byte, received time.Time) (Event, *Rejection) {
	return validate(data, received, false)
}

// ValidateLean is Validate for consumers that never read attributes (the
// speed layer): the same checks and the same rejections, but the
// attributes are not kept (Attributes is always nil), which saves a map per
// event.
func ValidateLean(data []byte, received time.Time) (Event, *Rejection) {
	return validate(data, received, true)
}

func validate(data []byte, received time.Time, dropAttrs bool) (Event, *Rejection) {
	if len(data) > MaxRecordBytes {
		return Event{}, reject(ReasonTooLarge, "", "record is %d bytes, the limit is %d", len(data), MaxRecordBytes)
	}
	e, rej := parseWith(data, false, dropAttrs)
	if rej != nil {
		return Event{}, rej
	}
	e.ReceivedTime = received.UTC()
	if rej := checkFuture(&e); rej != nil {
		return Event{}, rej
	}
	return e, nil
}

// ParseEnriched reads an enriched event (as AppendJSON writes it, or any JSON
// object with the event fields and received_time). dt and hour are derived
// from event_time and not read. It applies the same rules as Validate, with
// future_time measured from the event's received_time (a missing one is an
// error), and no size limit: the limit is on the record as received, which
// enrichment makes longer.
func ParseEnriched(data []byte) (Event, error) {
	return parseEnriched(data, false)
}

func parseEnriched(data []byte, dropAttrs bool) (Event, error) {
	e, rej := parseWith(data, true, dropAttrs)
	if rej != nil {
		return Event{}, rej
	}
	if rej := checkFuture(&e); rej != nil {
		return Event{}, rej
	}
	return e, nil
}

// checkFuture applies the future_time rule to an event with its received time.
func checkFuture(e *Event) *Rejection {
	if IsFuture(e.EventTime.UnixMilli(), e.ReceivedTime.UnixMilli()) {
		return reject(ReasonFutureTime, "event_time", "%s is more than %s after received_time %s",
			e.EventTime.Format(timeLayoutMillis), MaxFutureSkew, e.ReceivedTime.Format(timeLayoutMillis))
	}
	return nil
}

// ParseEnrichedLean is ParseEnriched for readers that never use attributes
// (the batch layer): the same rules, but Attributes is always nil.
func ParseEnrichedLean(data []byte) (Event, error) {
	return parseEnriched(data, true)
}
