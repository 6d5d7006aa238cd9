package transform

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/streaming"
)

// DefaultMaxResponseBytes keeps a response under Lambda's 6 MB limit for
// synchronous invocations (6,291,456 bytes) with room to spare.
const DefaultMaxResponseBytes = 6_000_000

// Route values of the "route" partition key.
const (
	RouteEvents       = "events"
	RouteErrorsPrefix = "errors/"
)

// Handler transforms Firehose processing events.
type Handler struct {
	// Now stamps records that carry no arrival time; nil means time.Now.
	Now func() time.Time
	// MaxResponseBytes bounds Invoke's response (default
	// DefaultMaxResponseBytes). Records that do not fit are returned
	// ProcessingFailed, which Firehose keeps as they were.
	MaxResponseBytes int
}

// Keys are the partition keys of one transformed record.
type Keys struct {
	Route string // "events" or "errors/<reason>"
	Dt    string // YYYY-MM-DD
	Hour  string // 00..23
}

// result is the outcome of one record.
type result uint8

const (
	resultOk result = iota
	resultFailed
)

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Handle transforms a typed event, for callers in the same process (the
// local Firehose runner, tests). It applies no response size limit.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(ev.Records))}
	now := h.now()
	var scratch []byte
	for i, r := range ev.Records {
		received := now
		if ms := r.ApproximateArrivalTimestamp.UnixMilli(); ms > 0 && !r.ApproximateArrivalTimestamp.IsZero() {
			received = time.UnixMilli(ms)
		}
		out, res, keys := h.record(scratch[:0], r.Data, received)
		rr := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID}
		if res == resultOk {
			rr.Result = events.KinesisFirehoseTransformedStateOk
			rr.Data = append([]byte(nil), out...)
			rr.Metadata.PartitionKeys = map[string]string{"route": keys.Route, "dt": keys.Dt, "hour": keys.Hour}
		} else {
			rr.Result = events.KinesisFirehoseTransformedStateProcessingFailed
		}
		resp.Records[i] = rr
		scratch = out
	}
	return resp, ctx.Err()
}

// record transforms one record's data, appending the output to dst.
func (h *Handler) record(dst, data []byte, received time.Time) ([]byte, result, Keys) {
	if streaming.IsAggregated(data) {
		users, _, err := streaming.Deaggregate(data)
		if err != nil || len(users) == 0 {
			return dst, resultFailed, Keys{}
		}
		// One recordId, one set of partition keys: the user records go
		// where the first one goes (see the package doc on KPL).
		var keys Keys
		for i, u := range users {
			var k Keys
			dst, k = one(dst, u.Data, received)
			if i == 0 {
				keys = k
			}
		}
		return dst, resultOk, keys
	}
	dst, keys := one(dst, data, received)
	return dst, resultOk, keys
}

// one validates one event and appends its enriched line or its error
// envelope, newline-terminated.
func one(dst, data []byte, received time.Time) ([]byte, Keys) {
	e, rej := event.Validate(data, received)
	if rej == nil {
		dst = e.AppendJSON(dst)
		return append(dst, '\n'), Keys{Route: RouteEvents, Dt: e.Dt(), Hour: e.Hour()}
	}
	r := received.UTC()
	dst = AppendEnvelope(dst, rej, data, r)
	return append(dst, '\n'), Keys{Route: RouteErrorsPrefix + string(rej.Reason), Dt: r.Format("2006-01-02"), Hour: r.Format("15")}
}

// Envelope is the JSON object a rejected record is kept as.
type Envelope struct {
	Reason       string `json:"reason"`
	Field        string `json:"field,omitempty"`
	Detail       string `json:"detail"`
	ReceivedTime string `json:"received_time"`
	// Record is the original record when it is valid UTF-8;
	// RecordBase64 holds it otherwise.
	Record       *string `json:"record,omitempty"`
	RecordBase64 string  `json:"record_base64,omitempty"`
}

// AppendEnvelope appends the error envelope of a rejected record.
func AppendEnvelope(dst []byte, rej *event.Rejection, data []byte, received time.Time) []byte {
	dst = append(dst, `{"reason":`...)
	dst = appendString(dst, string(rej.Reason))
	if rej.Field != "" {
		dst = append(dst, `,"field":`...)
		dst = appendString(dst, rej.Field)
	}
	dst = append(dst, `,"detail":`...)
	dst = appendString(dst, rej.Detail)
	dst = append(dst, `,"received_time":"`...)
	dst = received.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	if utf8.Valid(data) {
		dst = append(dst, `","record":`...)
		dst = appendString(dst, string(data))
	} else {
		dst = append(dst, `","record_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, data)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s (valid UTF-8 or not) as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// errEvent wraps what makes a whole payload unreadable.
var errEvent = errors.New("reading the Firehose event")

func eventError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errEvent, fmt.Sprintf(format, a...))
}
