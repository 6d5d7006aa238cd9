package gen

import (
	"strconv"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// fields are the raw JSON values of the required fields of a record under
// construction; "" omits the field. extra is appended raw (",\"k\":v…").
type fields struct {
	id, typ, time, user, extra string
}

func (f fields) append(dst []byte) []byte {
	dst = append(dst, '{')
	sep := false
	for _, kv := range [...][2]string{{"event_id", f.id}, {"event_type", f.typ}, {"event_time", f.time}, {"user_id", f.user}} {
		if kv[1] == "" {
			continue
		}
		if sep {
			dst = append(dst, ',')
		}
		sep = true
		dst = append(dst, '"')
		dst = append(dst, kv[0]...)
		dst = append(dst, `":`...)
		dst = append(dst, kv[1]...)
	}
	if f.extra != "" {
		if !sep {
			f.extra = strings.TrimPrefix(f.extra, ",")
		}
		dst = append(dst, f.extra...)
	}
	return append(dst, '}')
}

func quote(s string) string { return `"` + s + `"` }

// baseFields are valid required fields for a record arriving at arrival.
func (g *Generator) baseFields(userIdx int, arrival time.Time) fields {
	g.tmp = g.appendUUID(g.tmp[:0])
	return fields{
		id:   quote(string(g.tmp)),
		typ:  quote(g.cfg.Types[g.typeTab[g.rng.IntN(1024)]]),
		time: quote(string(appendRFC3339(nil, arrival, true))),
		user: quote(g.user(userIdx)),
	}
}

// bad appends a record the event model rejects with reason, and only that
// reason: every other part of it is valid.
func (g *Generator) bad(dst []byte, reason event.Reason, userIdx int, arrival time.Time) []byte {
	rng := g.rng
	f := g.baseFields(userIdx, arrival)
	switch reason {
	case event.ReasonInvalidJSON:
		switch rng.IntN(6) {
		case 0: // cut off mid-record
			g.tmp, _ = g.good(g.tmp[:0], userIdx, arrival, timeAny)
			return append(dst, g.tmp[:1+rng.IntN(len(g.tmp)-2)]...)
		case 1: // trailing comma
			f.extra = ","
		case 2: // not JSON at all
			return append(dst, "event_id="+strings.Trim(f.id, `"`)+"&event_type=click&user_id="+strings.Trim(f.user, `"`)...)
		case 3: // an array, not an object
			dst = append(dst, '[')
			dst = f.append(dst)
			return append(dst, ']')
		case 4: // single quotes
			return append(dst, "{'event_id': '"+strings.Trim(f.id, `"`)+"', 'event_type': 'click'}"...)
		case 5: // two objects on one line
			dst = f.append(dst)
			return f.append(dst)
		}
	case event.ReasonNotUTF8:
		switch rng.IntN(4) {
		case 0: // a stray byte
			f.user = `"` + g.user(userIdx) + "\xff\""
		case 1: // Latin-1 text
			f.extra = `,"attributes":{"city":"M` + "\xfc" + `nchen"}`
		case 2: // a UTF-8 sequence cut short
			f.extra = `,"source":"web` + "\xc3" + `"`
		case 3: // an encoded UTF-16 surrogate
			f.extra = `,"attributes":{"note":"` + "\xed\xa0\x80" + `"}`
		}
	case event.ReasonTooLarge:
		n := event.MaxRecordBytes + 1 + rng.IntN(8<<10)
		if rng.IntN(2) == 0 { // a huge attribute
			f.extra = `,"attributes":{"payload":"` + strings.Repeat("x", n) + `"}`
		} else { // valid JSON padded with whitespace
			f.extra = "," + strings.Repeat(" ", n) + `"source":"web"`
		}
	case event.ReasonMissingField:
		v := rng.IntN(8)
		val := "" // absent
		if v >= 4 {
			val = "null"
		}
		switch v % 4 {
		case 0:
			f.id = val
		case 1:
			f.typ = val
		case 2:
			f.time = val
		case 3:
			f.user = val
		}
	case event.ReasonBadType:
		switch rng.IntN(11) {
		case 0:
			f.id = "12345"
		case 1:
			f.typ = "7"
		case 2:
			f.time = "true"
		case 3:
			f.time = `{"s":1}`
		case 4:
			f.time = strconv.FormatInt(arrival.UnixMilli(), 10) + ".5"
		case 5:
			f.user = "true"
		case 6:
			f.extra = `,"value":"12.50"`
		case 7:
			f.extra = `,"attributes":["a","b"]`
		case 8:
			f.extra = `,"attributes":{"page":"/x","count":3}`
		case 9:
			f.extra = `,"session_id":42`
		case 10:
			f.extra = `,"source":["web"]`
		}
	case event.ReasonBadValue:
		switch rng.IntN(11) {
		case 0:
			f.typ = `"Page View"`
		case 1:
			f.typ = `""`
		case 2:
			f.id = `""`
		case 3:
			f.id = quote(strings.Repeat("e", event.MaxEventIDBytes+1+rng.IntN(64)))
		case 4:
			f.user = quote(strings.Repeat("u", event.MaxUserIDBytes+1+rng.IntN(64)))
		case 5:
			f.time = `"yesterday"`
		case 6:
			f.time = `"2026-13-45T00:00:00Z"`
		case 7:
			f.extra = `,"value":1e999`
		case 8:
			var sb strings.Builder
			sb.WriteString(`,"attributes":{`)
			for k := range event.MaxAttributes + 1 + rng.IntN(10) {
				if k > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(`"k` + strconv.Itoa(k) + `":"v"`)
			}
			sb.WriteByte('}')
			f.extra = sb.String()
		case 9:
			f.extra = `,"session_id":"` + strings.Repeat("s", event.MaxSessionBytes+1) + `"`
		case 10:
			f.time = "99999999999999999"
		}
	case event.ReasonFutureTime:
		ft := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
		if rng.IntN(2) == 0 {
			f.time = quote(string(appendRFC3339(nil, ft, true)))
		} else {
			f.time = strconv.FormatInt(ft.UnixMilli(), 10)
		}
	}
	return f.append(dst)
}
