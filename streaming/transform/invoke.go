package transform

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/lambdastack/lambdastack/internal/b64"
	"github.com/lambdastack/lambdastack/internal/event"
)

// Invoke implements the aws-lambda-go lambda.Handler interface: it reads
// the Firehose event JSON, transforms every record and returns the response
// JSON. A payload that is not a Firehose event is an error (the invocation
// fails and Firehose retries it); a bad record never is.
//
// The response stays within MaxResponseBytes. Records are transformed as
// they are read, in one pass; only when that response is over the limit is
// the event done again with a budget: before writing a record Ok it checks
// that the rest of the records still fit as ProcessingFailed entries
// (recordId only), so the limit holds whenever the payload itself is under
// it. When the one-pass response fits, the budgeted pass would write the
// same bytes, since an Ok entry is never smaller than a ProcessingFailed one.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	defer func() { sc.decoded, sc.text = sc.decoded[:0], sc.text[:0] }()
	limit := h.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	var out []byte
	if h.ReuseResponse {
		h.mu.Lock()
		defer h.mu.Unlock()
		out = h.resp[:0]
		defer func() { h.resp = out[:0] }()
	}
	if want := min(len(payload)+len(payload)/4+1024, limit); cap(out) < want {
		out = make([]byte, 0, want)
	}
	now := h.now()
	out = append(out, `{"records":[`...)
	n := 0
	err := scanEvent(payload, func(r *inRecord) error {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		id, err := r.idJSON(payload)
		if err != nil {
			// Decided by the records that count (a later records key
			// replaces these, as in encoding/json): the second pass says.
			return errRepeatedRecords
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out, _ = h.appendRecord(out, id, r, payload, now, sc)
		return nil
	})
	if err != nil && !errors.Is(err, errRepeatedRecords) {
		return nil, err
	}
	out = append(out, ']', '}')
	if err == nil && len(out) <= limit {
		return out, nil
	}
	out, err = h.invokeBudgeted(ctx, out[:0], payload, limit, now, sc)
	return out, err
}

// invokeBudgeted transforms the event keeping the response within limit.
func (h *Handler) invokeBudgeted(ctx context.Context, out, payload []byte, limit int, now time.Time, sc *scratch) ([]byte, error) {
	recs, err := parseEvent(payload, sc.recs[:0])
	sc.recs = recs[:0]
	if err != nil {
		return nil, err
	}
	ids := slices.Grow(sc.ids[:0], len(recs))[:len(recs)]
	defer func() { clear(ids); sc.ids = ids[:0] }()
	reserve := len(`{"records":[]}`)
	for i := range recs {
		if ids[i], err = recs[i].idJSON(payload); err != nil {
			return nil, err
		}
		reserve += failedSize(ids[i])
	}
	out = append(out, `{"records":[`...)
	for i := range recs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		reserve -= failedSize(ids[i])
		if i > 0 {
			out = append(out, ',')
		}
		mark := len(out)
		var ok bool
		if out, ok = h.appendRecord(out, ids[i], &recs[i], payload, now, sc); ok && len(out)+reserve+2 > limit {
			out = appendFailed(out[:mark], ids[i])
		}
	}
	return append(out, ']', '}'), nil
}

// appendRecord transforms one record and appends its response entry,
// reporting whether it is Ok.
func (h *Handler) appendRecord(out, id []byte, r *inRecord, payload []byte, now time.Time, sc *scratch) ([]byte, bool) {
	received := now
	if r.hasArrival {
		received = time.UnixMilli(r.arrivalMs)
	}
	var (
		res result
		k   keys
	)
	if r.kafka && !r.hasData {
		sc.text, k = rejected(sc.text[:0], tombstone, nil, received)
		return appendOk(out, id, sc.text, &k, true), true
	}
	data, ok := r.decode(payload, sc.decoded[:0])
	if !ok {
		return appendFailed(out, id), false
	}
	sc.decoded = data
	if r.kafka {
		sc.text, k = one(&sc.en, sc.text[:0], data, received)
	} else {
		sc.text, res, k = h.record(&sc.en, sc.text[:0], data, received)
	}
	if res != resultOk {
		return appendFailed(out, id), false
	}
	return appendOk(out, id, sc.text, &k, r.kafka), true
}

// tombstone is the rejection of a Kafka record whose value is null.
var tombstone = &event.Rejection{Reason: event.ReasonTombstone, Detail: "the Kafka record's value is null (a tombstone)"}

// scratch holds the buffers one Invoke needs, reused across invocations.
type scratch struct {
	en            event.Enricher
	recs          []inRecord
	ids           [][]byte
	decoded, text []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

func failedSize(id []byte) int {
	return len(`{"recordId":,"result":"ProcessingFailed"}`) + len(id) + 1
}

func appendFailed(out, id []byte) []byte {
	out = append(out, `{"recordId":`...)
	out = append(out, id...)
	return append(out, `,"result":"ProcessingFailed"}`...)
}

// appendOk appends an Ok entry, its data under kafkaRecordValue for a
// record from an MSK source.
func appendOk(out, id, text []byte, k *keys, kafka bool) []byte {
	out = append(out, `{"recordId":`...)
	out = append(out, id...)
	if kafka {
		out = append(out, `,"result":"Ok","kafkaRecordValue":"`...)
	} else {
		out = append(out, `,"result":"Ok","data":"`...)
	}
	out = b64.AppendEncode(out, text)
	out = append(out, `","metadata":{"partitionKeys":{"route":"`...)
	out = append(out, k.route...) // reason codes and "events": nothing to escape
	out = append(out, `","dt":"`...)
	out = append(out, k.dt[:k.dtLen]...)
	out = append(out, `","hour":"`...)
	out = append(out, k.hour[:]...)
	return append(out, `"}}}`...)
}

// span is the content of a JSON string (between the quotes) in the payload.
type span struct {
	start, end int
	escaped    bool
}

type inRecord struct {
	id, data   span
	hasID      bool
	hasData    bool
	arrivalMs  int64
	hasArrival bool
	// kafka marks a record from an MSK source: its data came as
	// kafkaRecordValue, or it has mskRecordMetadata.
	kafka bool
}

// idJSON returns the recordId as a JSON string.
func (r *inRecord) idJSON(p []byte) ([]byte, error) {
	if !r.hasID {
		return nil, eventError("a record has no recordId")
	}
	raw := p[r.id.start-1 : r.id.end+1]
	if hasControl(raw) {
		return nil, eventError("recordId %q has a control character", raw)
	}
	if !r.id.escaped {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, eventError("recordId %s: %v", raw, err)
	}
	return event.AppendJSONString(nil, s), nil
}

// smallInt parses a non-negative integer of up to 18 digits.
func smallInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// hasControl reports whether b holds a byte below 0x20, eight at a time.
func hasControl(b []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		if ((x-lo*0x20)&^x)&hi != 0 {
			return true
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return true
		}
	}
	return false
}

// decode returns the record's data, base64-decoded into dst.
func (r *inRecord) decode(p, dst []byte) ([]byte, bool) {
	if !r.hasData {
		return dst, true // no data: an empty record, rejected and kept like any other
	}
	src := p[r.data.start:r.data.end]
	if r.data.escaped {
		var s string
		if err := json.Unmarshal(p[r.data.start-1:r.data.end+1], &s); err != nil {
			return dst, false
		}
		src = []byte(s)
	}
	return b64.AppendDecode(dst, src)
}

// parseEvent finds the records of a Firehose event. Fields other than
// records, recordId, data and approximateArrivalTimestamp are checked for
// syntax and skipped.
func parseEvent(p []byte, recs []inRecord) ([]inRecord, error) {
	// A 300-byte event takes about 600 bytes of payload.
	recs = slices.Grow(recs, len(p)/600+1)
	err := scanEventWith(p, func(r *inRecord) error {
		recs = append(recs, *r)
		return nil
	}, func() error {
		recs = recs[:0] // a repeated key: the last one counts, as in encoding/json
		return nil
	})
	return recs, err
}

// scanEvent calls fn for every record of a Firehose event, in order, as
// soon as the record is read. A repeated records key is an error here (one
// pass cannot take back records already handled); encoding/json lets the
// last one win, which parseEvent does.
func scanEvent(p []byte, fn func(r *inRecord) error) error {
	seen := false
	return scanEventWith(p, fn, func() error {
		if seen {
			return errRepeatedRecords
		}
		seen = true
		return nil
	})
}

// errRepeatedRecords sends Invoke to its second pass, which reads the event
// as encoding/json does: a repeated records key, or a record the first pass
// cannot judge alone.
var errRepeatedRecords = errors.New("the records key appears twice, or a record has no usable recordId")

func scanEventWith(p []byte, fn func(r *inRecord) error, onRecords func() error) error {
	s := &scan{p: p}
	if !s.expect('{') {
		return s.error()
	}
	sawRecords := false
	r := new(inRecord) // one for all records: fn gets a pointer, so it lives on the heap
	for s.more('}') {
		key, ok := s.key()
		if !ok {
			return s.error()
		}
		if key != "records" {
			if !s.skipValue(0) {
				return s.error()
			}
			continue
		}
		sawRecords = true
		if err := onRecords(); err != nil {
			return err
		}
		if s.peek() == 'n' {
			if !s.literal("null") {
				return s.error()
			}
			continue
		}
		if !s.expect('[') {
			return s.error()
		}
		for s.more(']') {
			*r = inRecord{}
			if !s.expect('{') {
				return s.error()
			}
			for s.more('}') {
				k, ok := s.key()
				if !ok {
					return s.error()
				}
				if s.peek() == 'n' && (k == "recordId" || k == "approximateArrivalTimestamp") {
					// Leaves the field as it was, as in encoding/json; a bad
					// literal sets s.err, which ends the loop.
					s.literal("null")
					continue
				}
				switch k {
				case "recordId":
					r.id, ok = s.str()
					r.hasID = ok
				case "kafkaRecordValue":
					r.kafka = true
					fallthrough
				case "data":
					if s.peek() == 'n' {
						ok = s.literal("null")
						r.hasData = false
						break
					}
					r.data, ok = s.longStr()
					r.hasData = ok
				case "approximateArrivalTimestamp":
					var num []byte
					if num, ok = s.number(); ok {
						if ms, ok := smallInt(num); ok {
							r.arrivalMs = ms
						} else if f, err := strconv.ParseFloat(string(num), 64); err == nil {
							r.arrivalMs = int64(f)
						}
						r.hasArrival = r.arrivalMs > 0 // 0 means not set
					}
				case "mskRecordMetadata":
					r.kafka = true
					ok = s.skipValue(1)
				default:
					ok = s.skipValue(1)
				}
				if !ok {
					return s.error()
				}
			}
			if s.err != "" {
				return s.error()
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if s.err != "" {
			return s.error()
		}
	}
	if s.err != "" {
		return s.error()
	}
	s.ws()
	if s.i != len(p) {
		return eventError("unexpected data after the event at byte %d", s.i)
	}
	if !sawRecords {
		return eventError("no records field")
	}
	return nil
}
