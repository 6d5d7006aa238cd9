package transform

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
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
	// ReuseResponse lets Invoke write each response into the buffer of
	// the previous one, sparing a large allocation per invocation. The
	// bytes Invoke returns are then valid only until it is called again,
	// which suits the Lambda runtime (it sends the response before the
	// next invocation); calls are serialized.
	ReuseResponse bool

	mu   sync.Mutex
	resp []byte
}

// Keys are the partition keys of one transformed record.
type Keys struct {
	Route string // "events" or "errors/<reason>"
	Dt    string // YYYY-MM-DD
	Hour  string // 00..23
}

// keys is Keys without allocations, for the hot path.
type keys struct {
	route string
	dt    [16]byte
	dtLen int
	hour  [2]byte
}

func (k *keys) public() Keys {
	return Keys{Route: k.route, Dt: string(k.dt[:k.dtLen]), Hour: string(k.hour[:])}
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
	var en event.Enricher
	for i, r := range ev.Records {
		received := now
		if ms := r.ApproximateArrivalTimestamp.UnixMilli(); ms > 0 && !r.ApproximateArrivalTimestamp.IsZero() {
			received = time.UnixMilli(ms)
		}
		out, res, keys := h.record(&en, scratch[:0], r.Data, received)
		rr := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID}
		if res == resultOk {
			rr.Result = events.KinesisFirehoseTransformedStateOk
			rr.Data = append([]byte(nil), out...)
			k := keys.public()
			rr.Metadata.PartitionKeys = map[string]string{"route": k.Route, "dt": k.Dt, "hour": k.Hour}
		} else {
			rr.Result = events.KinesisFirehoseTransformedStateProcessingFailed
		}
		resp.Records[i] = rr
		scratch = out
	}
	return resp, ctx.Err()
}

// record transforms one record's data, appending the output to dst.
func (h *Handler) record(en *event.Enricher, dst, data []byte, received time.Time) ([]byte, result, keys) {
	if streaming.IsAggregated(data) {
		users, _, err := streaming.Deaggregate(data)
		if err != nil || len(users) == 0 {
			return dst, resultFailed, keys{}
		}
		// One recordId, one set of partition keys: the user records go
		// where the first one goes (see the package doc on KPL).
		var first keys
		for i, u := range users {
			var k keys
			dst, k = one(en, dst, u.Data, received)
			if i == 0 {
				first = k
			}
		}
		return dst, resultOk, first
	}
	dst, k := one(en, dst, data, received)
	return dst, resultOk, k
}

// one validates one event and appends its enriched line or its error
// envelope, newline-terminated.
func one(en *event.Enricher, dst, data []byte, received time.Time) ([]byte, keys) {
	var k keys
	start := len(dst)
	dst, rej := en.Append(dst, data, received)
	if rej == nil {
		dt, hour, ok := event.LinePartition(dst[start:])
		if ok && len(dt) <= len(k.dt) && len(hour) == 2 {
			k.route, k.dtLen = RouteEvents, copy(k.dt[:], dt)
			copy(k.hour[:], hour)
			return append(dst, '\n'), k
		}
		// Not reachable for lines AppendEnriched writes; keep the record
		// anyway, as a rejection.
		dst = dst[:start]
		rej = &event.Rejection{Reason: event.ReasonBadValue, Field: "event_time", Detail: "no dt and hour partition for this time"}
	}
	return rejected(dst[:start], rej, data, received)
}

// rejected appends the error envelope of a rejected record,
// newline-terminated, and returns its partition keys: the route of its
// reason, the dt and hour it was received.
func rejected(dst []byte, rej *event.Rejection, data []byte, received time.Time) ([]byte, keys) {
	var k keys
	r := received.UTC()
	dst = AppendEnvelope(dst, rej, data, r)
	k.route = routeFor(rej.Reason)
	k.dtLen = len(r.AppendFormat(k.dt[:0], "2006-01-02"))
	copy(k.hour[:], r.AppendFormat(nil, "15"))
	return append(dst, '\n'), k
}

// errorRoutes holds "errors/<reason>" per reason, built once.
var errorRoutes = func() map[event.Reason]string {
	m := map[event.Reason]string{}
	for _, r := range event.StreamReasons() {
		m[r] = RouteErrorsPrefix + string(r)
	}
	return m
}()

func routeFor(r event.Reason) string {
	if s, ok := errorRoutes[r]; ok {
		return s
	}
	return RouteErrorsPrefix + string(r)
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
	dst = event.AppendJSONString(dst, string(rej.Reason))
	if rej.Field != "" {
		dst = append(dst, `,"field":`...)
		dst = event.AppendJSONString(dst, rej.Field)
	}
	dst = append(dst, `,"detail":`...)
	dst = event.AppendJSONString(dst, rej.Detail)
	dst = append(dst, `,"received_time":"`...)
	dst = received.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	if utf8.Valid(data) {
		dst = append(dst, `","record":`...)
		dst = event.AppendJSONString(dst, data)
	} else {
		dst = append(dst, `","record_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, data)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// errEvent wraps what makes a whole payload unreadable.
var errEvent = errors.New("reading the Firehose event")

func eventError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errEvent, fmt.Sprintf(format, a...))
}
