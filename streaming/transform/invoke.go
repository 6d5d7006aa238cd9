package transform

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Invoke implements the aws-lambda-go lambda.Handler interface: it reads
// the Firehose event JSON, transforms every record and returns the response
// JSON. A payload that is not a Firehose event is an error (the invocation
// fails and Firehose retries it); a bad record never is.
//
// The response stays within MaxResponseBytes: before writing a record Ok it
// checks that the rest of the records still fit as ProcessingFailed entries
// (recordId only), so the limit holds whenever the payload itself is under
// it.
func (h *Handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	recs, err := parseEvent(payload, sc.recs[:0])
	sc.recs = recs[:0]
	if err != nil {
		return nil, err
	}
	limit := h.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
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
	now := h.now()
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
	out = append(out, `{"records":[`...)
	decoded, text := sc.decoded[:0], sc.text[:0]
	defer func() { sc.decoded, sc.text = decoded[:0], text[:0] }()
	for i := range recs {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		r := &recs[i]
		reserve -= failedSize(ids[i])
		if i > 0 {
			out = append(out, ',')
		}
		mark := len(out)
		received := now
		if r.hasArrival {
			received = time.UnixMilli(r.arrivalMs)
		}
		res := resultFailed
		var k keys
		if data, ok := r.decode(payload, decoded[:0]); ok {
			decoded = data
			text, res, k = h.record(text[:0], data, received)
		}
		if res == resultOk {
			out = appendOk(out, ids[i], text, &k)
			if len(out)+reserve+2 > limit {
				out = out[:mark]
				res = resultFailed
			}
		}
		if res != resultOk {
			out = appendFailed(out, ids[i])
		}
	}
	return append(out, ']', '}'), nil
}

// scratch holds the buffers one Invoke needs, reused across invocations.
type scratch struct {
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

func appendOk(out, id, text []byte, k *keys) []byte {
	out = append(out, `{"recordId":`...)
	out = append(out, id...)
	out = append(out, `,"result":"Ok","data":"`...)
	out = appendBase64(out, text)
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
	return appendString(nil, s), nil
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
	return appendBase64Decode(dst, src)
}

// parseEvent finds the records of a Firehose event. Fields other than
// records, recordId, data and approximateArrivalTimestamp are checked for
// syntax and skipped.
func parseEvent(p []byte, recs []inRecord) ([]inRecord, error) {
	s := &scan{p: p}
	if !s.expect('{') {
		return nil, s.error()
	}
	// A 300-byte event takes about 600 bytes of payload.
	recs = slices.Grow(recs, len(p)/600+1)
	sawRecords := false
	for s.more('}') {
		key, ok := s.key()
		if !ok {
			return nil, s.error()
		}
		if key != "records" {
			if !s.skipValue(0) {
				return nil, s.error()
			}
			continue
		}
		sawRecords = true
		recs = recs[:0] // a repeated key: the last one counts, as in encoding/json
		if s.peek() == 'n' {
			if !s.literal("null") {
				return nil, s.error()
			}
			continue
		}
		if !s.expect('[') {
			return nil, s.error()
		}
		for s.more(']') {
			var r inRecord
			if !s.expect('{') {
				return nil, s.error()
			}
			for s.more('}') {
				k, ok := s.key()
				if !ok {
					return nil, s.error()
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
						if ms, err := strconv.ParseInt(string(num), 10, 64); err == nil {
							r.arrivalMs = ms
						} else if f, err := strconv.ParseFloat(string(num), 64); err == nil {
							r.arrivalMs = int64(f)
						}
						r.hasArrival = r.arrivalMs > 0 // 0 means not set
					}
				default:
					ok = s.skipValue(1)
				}
				if !ok {
					return nil, s.error()
				}
			}
			if s.err != "" {
				return nil, s.error()
			}
			recs = append(recs, r)
		}
		if s.err != "" {
			return nil, s.error()
		}
	}
	if s.err != "" {
		return nil, s.error()
	}
	s.ws()
	if s.i != len(p) {
		return nil, eventError("unexpected data after the event at byte %d", s.i)
	}
	if !sawRecords {
		return nil, eventError("no records field")
	}
	return recs, nil
}
