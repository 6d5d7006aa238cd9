package transform

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
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
	recs, err := parseEvent(payload)
	if err != nil {
		return nil, err
	}
	limit := h.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	ids := make([][]byte, len(recs))
	reserve := len(`{"records":[]}`)
	for i := range recs {
		if ids[i], err = recs[i].idJSON(payload); err != nil {
			return nil, err
		}
		reserve += failedSize(ids[i])
	}
	now := h.now()
	out := make([]byte, 0, len(payload)+len(payload)/4+1024)
	out = append(out, `{"records":[`...)
	var decoded, text []byte
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
		var keys Keys
		if data, ok := r.decode(payload, decoded[:0]); ok {
			decoded = data
			text, res, keys = h.record(text[:0], data, received)
		}
		if res == resultOk {
			out = appendOk(out, ids[i], text, keys)
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

func failedSize(id []byte) int {
	return len(`{"recordId":,"result":"ProcessingFailed"}`) + len(id) + 1
}

func appendFailed(out, id []byte) []byte {
	out = append(out, `{"recordId":`...)
	out = append(out, id...)
	return append(out, `,"result":"ProcessingFailed"}`...)
}

func appendOk(out, id, text []byte, k Keys) []byte {
	out = append(out, `{"recordId":`...)
	out = append(out, id...)
	out = append(out, `,"result":"Ok","data":"`...)
	out = base64.StdEncoding.AppendEncode(out, text)
	out = append(out, `","metadata":{"partitionKeys":{"route":"`...)
	out = append(out, k.Route...) // reason codes and "events": nothing to escape
	out = append(out, `","dt":"`...)
	out = append(out, k.Dt...)
	out = append(out, `","hour":"`...)
	out = append(out, k.Hour...)
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
	if !r.id.escaped {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, eventError("recordId %s: %v", raw, err)
	}
	return appendString(nil, s), nil
}

// decode returns the record's data, base64-decoded into dst.
func (r *inRecord) decode(p, dst []byte) ([]byte, bool) {
	if !r.hasData {
		return dst, false
	}
	src := p[r.data.start:r.data.end]
	if r.data.escaped {
		var s string
		if err := json.Unmarshal(p[r.data.start-1:r.data.end+1], &s); err != nil {
			return dst, false
		}
		src = []byte(s)
	}
	out, err := base64.StdEncoding.AppendDecode(dst, src)
	return out, err == nil
}

// parseEvent finds the records of a Firehose event. Fields other than
// records, recordId, data and approximateArrivalTimestamp are checked for
// syntax and skipped.
func parseEvent(p []byte) ([]inRecord, error) {
	s := &scan{p: p}
	if !s.expect('{') {
		return nil, s.error()
	}
	// A 300-byte event takes about 600 bytes of payload.
	recs := make([]inRecord, 0, len(p)/600+1)
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
				switch k {
				case "recordId":
					r.id, ok = s.str()
					r.hasID = ok
				case "data":
					if s.peek() == 'n' {
						ok = s.literal("null")
						break
					}
					r.data, ok = s.str()
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
