package event

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendEnriched validates data exactly as Validate does and, when the
// event is accepted, appends the line AppendJSON writes for it (no newline)
// to dst. It returns the extended dst and nil, or dst unchanged and the
// rejection Validate would give.
//
// It is the hot path of the Firehose transform: the common event (no
// escapes, no repeated or null fields) is checked and written in one scan,
// copying its strings as they are instead of decoding and re-encoding
// them; anything else takes Validate and AppendJSON, so results are the
// same for every input (FuzzAppendEnriched checks this).
func AppendEnriched(dst, data []byte, received time.Time) ([]byte, *Rejection) {
	if out, ok := appendEnrichedFast(dst, data, received); ok {
		return out, nil
	}
	e, rej := Validate(data, received)
	if rej != nil {
		return dst, rej
	}
	return e.AppendJSON(dst), nil
}

// LinePartition returns the dt and hour of an enriched line as AppendJSON
// writes it (they end the line at fixed places).
func LinePartition(line []byte) (dt, hour []byte, ok bool) {
	if n := len(line); n >= 31 && string(line[n-31:n-24]) == `,"dt":"` && string(line[n-14:n-4]) == `","hour":"` && string(line[n-2:]) == `"}` {
		return line[n-24 : n-14], line[n-4 : n-2], true // a four-digit year
	}
	i := bytes.LastIndex(line, []byte(`,"dt":"`))
	j := bytes.LastIndex(line, []byte(`","hour":"`))
	n := len(line)
	if i < 0 || j < i+7 || n < j+12 || string(line[n-2:]) != `"}` {
		return nil, nil, false
	}
	return line[i+7 : j], line[j+10 : n-2], true
}

type rawSpan struct{ start, end int }

// attrSpan is one attribute: key and value contents (between the quotes).
type attrSpan struct{ k, v rawSpan }

// appendEnrichedFast handles the common event. ok=false means "not sure":
// the caller falls back to the full path, which decides.
func appendEnrichedFast(dst, data []byte, received time.Time) ([]byte, bool) {
	if len(data) > MaxRecordBytes || !utf8.Valid(data) {
		return dst, false
	}
	s := scanner{data: data}
	if s.peek() != '{' {
		return dst, false
	}
	s.pos++
	var (
		seen                           [fReceivedTime + 1]bool
		id, typ, user, session, source rawSpan
		eventTime                      time.Time
		value                          float64
		valueText                      []byte
		attrs                          [MaxAttributes]attrSpan
		nAttrs                         int
		hasAttrs                       bool
	)
	if s.peek() == '}' {
		return dst, false // missing fields: let Validate say so
	}
	for {
		ks, ke, ok := s.rawStr()
		if !ok || !s.expectFast(':') {
			return dst, false
		}
		f := fastFieldID(data[ks:ke])
		c := s.peek()
		if f != fUnknown {
			if seen[f] || c == 'n' {
				return dst, false // repeated or null: the full path's rules
			}
			seen[f] = true
		}
		switch f {
		case fUnknown:
			s.skipValue(1)
			if s.err != nil {
				return dst, false
			}
		case fEventID, fEventType, fUserID, fSessionID, fSource:
			a, b, ok := s.rawStr()
			if !ok {
				return dst, false
			}
			n := b - a
			sp := rawSpan{a, b}
			switch f {
			case fEventID:
				ok, id = n >= 1 && n <= MaxEventIDBytes, sp
			case fEventType:
				ok, typ = validEventTypeBytes(data[a:b]), sp
			case fUserID:
				ok, user = n >= 1 && n <= MaxUserIDBytes, sp
			case fSessionID:
				ok, session = n <= MaxSessionBytes, sp
			case fSource:
				ok, source = n <= MaxSourceBytes, sp
			}
			if !ok {
				return dst, false
			}
		case fEventTime:
			switch {
			case c == '"':
				a, b, ok := s.rawStr()
				if !ok {
					return dst, false
				}
				t, ok := parseRFC3339(string(data[a:b]))
				if !ok {
					return dst, false
				}
				eventTime = t
			case c >= '0' && c <= '9':
				num, integer := s.number()
				if s.err != nil || !integer || len(num) > 15 {
					return dst, false
				}
				var ms int64
				for _, d := range num {
					ms = ms*10 + int64(d-'0')
				}
				if ms > maxEpochMillis || (len(num) > 1 && num[0] == '0') {
					return dst, false
				}
				eventTime = time.UnixMilli(ms).UTC()
			default:
				return dst, false
			}
		case fValue:
			if c != '-' && (c < '0' || c > '9') {
				return dst, false
			}
			num, _ := s.number()
			if s.err != nil {
				return dst, false
			}
			if canonicalNumber(num) {
				valueText = num // AppendFloat(ParseFloat(num)) would write it back as it is
				break
			}
			v, err := strconv.ParseFloat(string(num), 64)
			if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				return dst, false
			}
			value = v
		case fAttributes:
			if c != '{' {
				return dst, false
			}
			s.pos++
			hasAttrs = true
			if s.peek() == '}' {
				s.pos++
				break
			}
			for {
				a, b, ok := s.rawStr()
				if !ok || !s.expectFast(':') || s.peek() != '"' || nAttrs == MaxAttributes {
					return dst, false
				}
				va, vb, ok := s.rawStr()
				if !ok {
					return dst, false
				}
				attrs[nAttrs] = attrSpan{rawSpan{a, b}, rawSpan{va, vb}}
				nAttrs++
				if c := s.peek(); c == ',' {
					s.pos++
					continue
				} else if c == '}' {
					s.pos++
					break
				}
				return dst, false
			}
		default:
			return dst, false
		}
		c = s.peek()
		if c == ',' {
			s.pos++
			continue
		}
		if c != '}' {
			return dst, false
		}
		s.pos++
		break
	}
	s.skipSpace()
	if s.pos != len(data) || !seen[fEventID] || !seen[fEventType] || !seen[fEventTime] || !seen[fUserID] {
		return dst, false
	}
	received = received.UTC()
	if eventTime.After(received.Add(MaxFutureSkew)) {
		return dst, false
	}
	// Attribute keys sorted; a repeated key takes the full path (last wins).
	for i := 1; i < nAttrs; i++ {
		for j := i; j > 0; j-- {
			c := bytes.Compare(data[attrs[j-1].k.start:attrs[j-1].k.end], data[attrs[j].k.start:attrs[j].k.end])
			if c == 0 {
				return dst, false
			}
			if c < 0 {
				break
			}
			attrs[j-1], attrs[j] = attrs[j], attrs[j-1]
		}
	}
	ey, em, ed, eh, emi, es, ems, ok1 := civil(eventTime)
	ry, rm, rd, rh, rmi, rs, rms, ok2 := civil(received)
	if !ok1 || !ok2 {
		return dst, false
	}
	quoted := func(dst []byte, sp rawSpan) []byte {
		return append(dst, data[sp.start-1:sp.end+1]...)
	}
	dst = append(dst, `{"event_id":`...)
	dst = quoted(dst, id)
	dst = append(dst, `,"event_type":`...)
	dst = quoted(dst, typ)
	dst = append(dst, `,"event_time":"`...)
	dst = appendCivil(dst, ey, em, ed, eh, emi, es, ems)
	dst = append(dst, `","user_id":`...)
	dst = quoted(dst, user)
	if session.end > session.start {
		dst = append(dst, `,"session_id":`...)
		dst = quoted(dst, session)
	}
	dst = append(dst, `,"source":`...)
	if source.end > source.start {
		dst = quoted(dst, source)
	} else {
		dst = append(dst, `"`+DefaultSource+`"`...)
	}
	if seen[fValue] {
		dst = append(dst, `,"value":`...)
		if valueText != nil {
			dst = append(dst, valueText...)
		} else {
			dst = strconv.AppendFloat(dst, value, 'g', -1, 64)
		}
	}
	if hasAttrs {
		dst = append(dst, `,"attributes":{`...)
		for i := range nAttrs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = quoted(dst, attrs[i].k)
			dst = append(dst, ':')
			dst = quoted(dst, attrs[i].v)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"received_time":"`...)
	dst = appendCivil(dst, ry, rm, rd, rh, rmi, rs, rms)
	dst = append(dst, `","dt":"`...)
	dst = append4(dst, ey)
	dst = append(dst, '-')
	dst = append2(dst, em)
	dst = append(dst, '-')
	dst = append2(dst, ed)
	dst = append(dst, `","hour":"`...)
	dst = append2(dst, eh)
	return append(dst, '"', '}'), true
}

// rawStr reads a string that has no escapes and no control characters and
// returns its content's bounds; ok=false otherwise (the caller falls back).
func (s *scanner) rawStr() (int, int, bool) {
	s.skipSpace()
	d := s.data
	if s.pos >= len(d) || d[s.pos] != '"' {
		return 0, 0, false
	}
	start := s.pos + 1
	n := firstSpecial(d[start:])
	if start+n >= len(d) || d[start+n] != '"' {
		return 0, 0, false
	}
	s.pos = start + n + 1
	return start, start + n, true
}

// firstSpecial returns the index of the first quote, backslash or control
// byte in b, or len(b). It looks at eight bytes at a time: the lowest
// flagged byte of a word is exact (borrows only affect bytes above it).
func firstSpecial(b []byte) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	rest := b
	for len(rest) >= 8 {
		x := binary.LittleEndian.Uint64(rest)
		q, bs := x^(lo*'"'), x^(lo*'\\')
		if t := (((q - lo) &^ q) | ((bs - lo) &^ bs) | ((x - lo*0x20) &^ x)) & hi; t != 0 {
			return len(b) - len(rest) + bits.TrailingZeros64(t)/8
		}
		rest = rest[8:]
	}
	for i, c := range rest {
		if strStop[c] {
			return len(b) - len(rest) + i
		}
	}
	return len(b)
}

// strStop marks the bytes that end a raw string scan: the closing quote,
// and a backslash or control character, which send the record to the full
// path.
var strStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// canonicalNumber reports whether a JSON number is written exactly as
// strconv.AppendFloat(v, 'g', -1, 64) writes the float64 it parses to:
// at most 15 significant digits (so no shorter string parses to the same
// float), no exponent, no trailing zeros in the fraction, under 1e6 (where
// 'g' switches to an exponent) and not below 1e-4.
func canonicalNumber(n []byte) bool {
	if len(n) > 0 && n[0] == '-' {
		n = n[1:]
	}
	if len(n) == 0 || len(n) > 16 {
		return false
	}
	i := 0
	for i < len(n) && n[i] >= '0' && n[i] <= '9' {
		i++
	}
	intPart := n[:i]
	if len(intPart) == 0 || len(intPart) > 6 || (len(intPart) > 1 && intPart[0] == '0') {
		return false
	}
	if i == len(n) {
		return true
	}
	if n[i] != '.' || i+1 == len(n) || n[len(n)-1] == '0' {
		return false
	}
	frac := n[i+1:]
	for _, c := range frac {
		if c < '0' || c > '9' {
			return false
		}
	}
	sig := len(intPart) + len(frac)
	if intPart[0] == '0' {
		// 0.000ddd: leading zeros of the fraction are not significant, and
		// four or more of them make 'g' use an exponent.
		z := 0
		for z < len(frac) && frac[z] == '0' {
			z++
		}
		if z >= 4 {
			return false
		}
		sig = len(frac) - z
	}
	return sig <= 15
}

func (s *scanner) expectFast(c byte) bool {
	if s.peek() != c {
		return false
	}
	s.pos++
	return true
}

func fastFieldID(k []byte) int {
	switch string(k) { // compiled to comparisons, no allocation
	case "event_id":
		return fEventID
	case "event_type":
		return fEventType
	case "event_time":
		return fEventTime
	case "user_id":
		return fUserID
	case "session_id":
		return fSessionID
	case "source":
		return fSource
	case "value":
		return fValue
	case "attributes":
		return fAttributes
	}
	return fUnknown // received_time too: Validate ignores it
}

func validEventTypeBytes(v []byte) bool {
	if len(v) == 0 || len(v) > MaxEventTypeLen || v[0] < 'a' || v[0] > 'z' {
		return false
	}
	for _, c := range v[1:] {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// civil splits t (UTC) into its fields, with milliseconds truncated as
// AppendFormat does; ok=false outside years 0..9999.
func civil(t time.Time) (y, mo, d, h, mi, s, ms int, ok bool) {
	t = t.UTC()
	var m time.Month
	y, m, d = t.Date()
	if y < 0 || y > 9999 {
		return 0, 0, 0, 0, 0, 0, 0, false
	}
	h, mi, s = t.Clock()
	return y, int(m), d, h, mi, s, t.Nanosecond() / 1e6, true
}

// appendCivil writes YYYY-MM-DDTHH:MM:SS.mmmZ, the layout of
// timeLayoutMillis for a UTC time.
func appendCivil(dst []byte, y, mo, d, h, mi, s, ms int) []byte {
	dst = append4(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, mo)
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, 'T')
	dst = append2(dst, h)
	dst = append(dst, ':')
	dst = append2(dst, mi)
	dst = append(dst, ':')
	dst = append2(dst, s)
	dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	return dst
}

func append2(dst []byte, v int) []byte { return append(dst, byte('0'+v/10), byte('0'+v%10)) }

func append4(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}
