package event

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"
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
	return appendEnriched(dst, data, received, nil)
}

// Enricher is AppendEnriched for a caller that enriches many records
// received at the same moment (a Firehose batch): it keeps the text of the
// last received time. The zero value is ready; it is not safe for
// concurrent use.
type Enricher struct {
	st enrichState
}

// Append is AppendEnriched.
func (en *Enricher) Append(dst, data []byte, received time.Time) ([]byte, *Rejection) {
	return appendEnriched(dst, data, received, &en.st)
}

// LeanValidator is ValidateLean for a caller that validates many records
// and is done with each event's strings before it changes the record's
// bytes (the speed layer hashes and counts them): the common event takes
// AppendEnriched's one-scan fast path, writes nothing, and its strings are
// cut from data instead of copied, so it costs no allocation. Anything the
// fast path is not sure of takes ValidateLean, so events and rejections
// are ValidateLean's (FuzzLeanValidator checks this). The zero value is
// ready; it is not safe for concurrent use.
type LeanValidator struct {
	st enrichState
}

// Validate is ValidateLean(data, received); the event's strings may share
// data's bytes.
func (v *LeanValidator) Validate(data []byte, received time.Time) (Event, *Rejection) {
	var e Event
	if _, ok := appendEnrichedFast(nil, data, received, &v.st, &e); ok {
		return e, nil
	}
	return ValidateLean(data, received)
}

// enrichState is what the fast path keeps between records: the formatted
// received_time of the last instant, and room for the attribute spans
// (1.6 KB, which on the stack was zeroed for every record: 12% of the
// transform's CPU time on bench/transform.sh's event).
type enrichState struct {
	t     time.Time
	text  [24]byte
	valid bool
	attrs [MaxAttributes]attrSpan
}

func appendEnriched(dst, data []byte, received time.Time, st *enrichState) ([]byte, *Rejection) {
	if out, ok := appendEnrichedFast(dst, data, received, st, nil); ok {
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
// the caller falls back to the full path, which decides. With lean set, it
// writes nothing and fills *lean with ValidateLean's event instead, its
// strings cut from data (LeanValidator).
func appendEnrichedFast(dst, data []byte, received time.Time, st *enrichState, lean *Event) ([]byte, bool) {
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
		etext                          [24]byte // event_time as written, when haveText
		haveText                       bool
		value                          float64
		valueText                      []byte
		nAttrs                         int
		hasAttrs                       bool
	)
	if s.peek() == '}' {
		return dst, false // missing fields: let Validate say so
	}
	if st == nil {
		st = new(enrichState)
	}
	attrs := &st.attrs
	for {
		f, ok := s.knownKey()
		if !ok {
			ks, ke, ok := s.rawStr()
			if !ok || !s.expectFast(':') {
				return dst, false
			}
			f = fastFieldID(data[ks:ke])
		}
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
			v, sp := data[a:b], rawSpan{a, b}
			switch f {
			case fEventID:
				ok, id = ValidEventID(v), sp
			case fEventType:
				ok, typ = ValidEventType(v), sp
			case fUserID:
				ok, user = ValidUserID(v), sp
			case fSessionID:
				ok, session = ValidSessionID(v), sp
			case fSource:
				ok, source = ValidSource(v), sp
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
				if canonicalUTC(data[a:b], &etext) {
					haveText = true // already as AppendJSON writes it
					break
				}
				t, ok := ParseTime(string(data[a:b]))
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
				if ms < MinEpochMillis || !ValidTimeMillis(ms) || (len(num) > 1 && num[0] == '0') {
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
			if err != nil || !ValidValue(v) {
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
				if !ok || !s.expectFast(':') || s.peek() != '"' || !ValidAttributeCount(nAttrs+1) {
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
	if haveText {
		eventTime = textTime(&etext)
	}
	if IsFuture(eventTime.UnixMilli(), received.UnixMilli()) {
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
	if lean != nil {
		view := func(sp rawSpan) string { return unsafe.String(unsafe.SliceData(data[sp.start:]), sp.end-sp.start) }
		*lean = Event{EventID: view(id), EventType: view(typ), EventTime: eventTime, UserID: view(user),
			SessionID: view(session), Source: DefaultSource, HasValue: seen[fValue], ReceivedTime: received}
		if source.end > source.start {
			lean.Source = view(source)
		}
		if valueText != nil {
			value, _ = strconv.ParseFloat(string(valueText), 64) // canonical: it parses
		}
		lean.Value = value
		return dst, true
	}
	if !haveText {
		ey, em, ed, eh, emi, es, ems, ok := civil(eventTime)
		if !ok {
			return dst, false
		}
		appendCivil(etext[:0], ey, em, ed, eh, emi, es, ems)
	}
	if !st.valid || !st.t.Equal(received) {
		ry, rm, rd, rh, rmi, rs, rms, ok := civil(received)
		if !ok {
			return dst, false
		}
		appendCivil(st.text[:0], ry, rm, rd, rh, rmi, rs, rms)
		st.t, st.valid = received, true
	}
	quoted := func(dst []byte, sp rawSpan) []byte {
		return append(dst, data[sp.start-1:sp.end+1]...)
	}
	dst = append(dst, `{"event_id":`...)
	dst = quoted(dst, id)
	dst = append(dst, `,"event_type":`...)
	dst = quoted(dst, typ)
	dst = append(dst, `,"event_time":"`...)
	dst = append(dst, etext[:]...)
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
	dst = append(dst, st.text[:]...)
	dst = append(dst, `","dt":"`...)
	dst = append(dst, etext[0:10]...)
	dst = append(dst, `","hour":"`...)
	dst = append(dst, etext[11:13]...)
	return append(dst, '"', '}'), true
}

// canonicalUTC reports whether v is an RFC 3339 UTC time already in the
// form AppendJSON writes (YYYY-MM-DDTHH:MM:SS.mmmZ) or that form without
// the fraction, with valid fields, and writes the canonical form to out.
func canonicalUTC(v []byte, out *[24]byte) bool {
	switch {
	case len(v) == 24 && v[19] == '.' && v[23] == 'Z' && isDigit(v[20]) && isDigit(v[21]) && isDigit(v[22]):
		copy(out[:], v)
	case len(v) == 20 && v[19] == 'Z':
		copy(out[:], v[:19])
		copy(out[19:], ".000Z")
	default:
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if !isDigit(out[i]) {
			return false
		}
	}
	if out[4] != '-' || out[7] != '-' || out[10] != 'T' || out[13] != ':' || out[16] != ':' {
		return false
	}
	y, mo, d := num4(out[0:4]), num2(out[5:7]), num2(out[8:10])
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && num2(out[11:13]) <= 23 && num2(out[14:16]) <= 59 && num2(out[17:19]) <= 59
}

// textTime is the instant of a canonical time text, without time.Date:
// days from the civil date (Howard Hinnant's algorithm) for the seconds.
func textTime(t *[24]byte) time.Time {
	y, m, d := num4(t[0:4]), num2(t[5:7]), num2(t[8:10])
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= -1: only year 0's January and February give -1
	if y < 0 {
		era = -1
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	sec := days*86400 + int64(num2(t[11:13])*3600+num2(t[14:16])*60+num2(t[17:19]))
	return time.Unix(sec, int64(num3(t[20:23]))*1e6).UTC()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func num2(b []byte) int   { return int(b[0]-'0')*10 + int(b[1]-'0') }
func num3(b []byte) int   { return int(b[0]-'0')*100 + int(b[1]-'0')*10 + int(b[2]-'0') }
func num4(b []byte) int   { return num2(b[0:2])*100 + num2(b[2:4]) }

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

// knownKey reads `"name":` for a name of the event model, written as
// AppendJSON writes it, in one comparison chosen by the name's first
// letter; ok=false (another key, escapes, white space before the colon)
// leaves the key to rawStr and fastFieldID, which give the same field. It
// saves the string scan for eight of an event's twenty strings: 6% more
// records per CPU-second on bench/transform.sh's event (0.90M to 0.95M).
// parseWith uses it the same way, before its own string decoding.
func (s *scanner) knownKey() (int, bool) {
	s.skipSpace()
	d := s.data[s.pos:]
	if len(d) < 9 || d[0] != '"' {
		return fUnknown, false
	}
	// Each comparison is with a constant, which the compiler does inline
	// in a few word loads (a table of names costs a memequal call each).
	f, n := fUnknown, 0
	switch d[1] {
	case 'e':
		switch {
		case len(d) >= 11 && string(d[:11]) == `"event_id":`:
			f, n = fEventID, 11
		case len(d) >= 13 && string(d[:13]) == `"event_type":`:
			f, n = fEventType, 13
		case len(d) >= 13 && string(d[:13]) == `"event_time":`:
			f, n = fEventTime, 13
		}
	case 'u':
		if len(d) >= 10 && string(d[:10]) == `"user_id":` {
			f, n = fUserID, 10
		}
	case 's':
		switch {
		case len(d) >= 13 && string(d[:13]) == `"session_id":`:
			f, n = fSessionID, 13
		case string(d[:9]) == `"source":`:
			f, n = fSource, 9
		}
	case 'v':
		if string(d[:8]) == `"value":` {
			f, n = fValue, 8
		}
	case 'a':
		if len(d) >= 13 && string(d[:13]) == `"attributes":` {
			f, n = fAttributes, 13
		}
	}
	if f == fUnknown {
		return fUnknown, false
	}
	s.pos += n
	return f, true
}

// fastFieldID is fieldID for a key still in the input bytes. It repeats
// fieldID's switch on purpose: fieldID(string(k)) copies the key to the stack
// first, which measured 5% slower on BenchmarkAppendEnriched (380 vs 360 ns).
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
