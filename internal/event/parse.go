package event

import (
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads one JSON document from data. Syntax errors are recorded in
// err (the first wins) and make every further step a no-op, so the parse
// functions stay linear and readable.
//
// What it buys: ValidateLean reads and checks a 300-byte event in 470
// ns, where encoding/json takes 3,550 ns only to read it into a map
// (go test -run '^$' -bench 'ValidateLean|UnmarshalMap' -cpu 1
// ./internal/event/), and it sees what the model's rules need and a map
// hides: a repeated key, null against absent, a number's text. The
// envelope readers (streaming/transform, streaming/speed) read other
// documents into other shapes; appendEnrichedFast shares its knownKey.
type scanner struct {
	data []byte
	// src is data as one string: strings without escapes are cut from it,
	// one allocation per record instead of one per string.
	src string
	pos int
	err *Rejection
	// dropAttrs: check attributes but do not keep them.
	dropAttrs bool
}

func (s *scanner) fail(format string, a ...any) {
	if s.err == nil {
		s.err = reject(ReasonInvalidJSON, "", format, a...)
	}
}

func (s *scanner) skipSpace() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// expect consumes byte c after optional white space.
func (s *scanner) expect(c byte) bool {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == c {
		s.pos++
		return true
	}
	if s.pos >= len(s.data) {
		s.fail("unexpected end of input, want %q", c)
	} else {
		s.fail("unexpected %q at byte %d, want %q", s.data[s.pos], s.pos, c)
	}
	return false
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// str reads a JSON string at pos (the opening quote) and returns its
// decoded value. Strings without escapes are returned without decoding work.
func (s *scanner) str() string {
	if !s.expect('"') {
		return ""
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			v := s.src[start:s.pos]
			s.pos++
			return v
		case c == '\\':
			return s.strEscaped(start)
		case c < 0x20:
			s.fail("control character 0x%02x in string at byte %d", c, s.pos)
			return ""
		}
		s.pos++
	}
	s.fail("unterminated string starting at byte %d", start-1)
	return ""
}

// strEscaped continues str from the first backslash, decoding escapes the way
// encoding/json does (a lone surrogate becomes U+FFFD).
func (s *scanner) strEscaped(start int) string {
	buf := make([]byte, 0, s.pos-start+16)
	buf = append(buf, s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return string(buf)
		case c < 0x20:
			s.fail("control character 0x%02x in string at byte %d", c, s.pos)
			return ""
		case c != '\\':
			buf = append(buf, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			break
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return ""
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate followed by \uDC00-\uDFFF is one rune.
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					r2, ok := s.hex4()
					if !ok {
						return ""
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						buf = utf8.AppendRune(buf, dec)
						continue
					}
					s.pos = save
				}
				r = utf8.RuneError
			}
			buf = utf8.AppendRune(buf, r)
		default:
			s.fail("invalid escape \\%c at byte %d", e, s.pos-1)
			return ""
		}
	}
	s.fail("unterminated string starting at byte %d", start-1)
	return ""
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		s.fail("truncated \\u escape at byte %d", s.pos-2)
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			s.fail("invalid \\u escape at byte %d", s.pos-2)
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// number reads a JSON number and returns its text and whether it is an
// integer (no fraction, no exponent).
func (s *scanner) number() ([]byte, bool) {
	s.skipSpace()
	start := s.pos
	d := s.data
	integer := true
	if s.pos < len(d) && d[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(d) && d[s.pos] == '0':
		s.pos++
	case s.pos < len(d) && '1' <= d[s.pos] && d[s.pos] <= '9':
		for s.pos < len(d) && '0' <= d[s.pos] && d[s.pos] <= '9' {
			s.pos++
		}
	default:
		s.fail("invalid number at byte %d", start)
		return nil, false
	}
	if s.pos < len(d) && d[s.pos] == '.' {
		integer = false
		s.pos++
		if !s.digits() {
			return nil, false
		}
	}
	if s.pos < len(d) && (d[s.pos] == 'e' || d[s.pos] == 'E') {
		integer = false
		s.pos++
		if s.pos < len(d) && (d[s.pos] == '+' || d[s.pos] == '-') {
			s.pos++
		}
		if !s.digits() {
			return nil, false
		}
	}
	return d[start:s.pos], integer
}

func (s *scanner) digits() bool {
	start := s.pos
	for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
		s.pos++
	}
	if s.pos == start {
		s.fail("invalid number at byte %d", start)
		return false
	}
	return true
}

func (s *scanner) literal(word string) {
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return
	}
	s.fail("invalid literal at byte %d", s.pos)
}

// skipValue reads any JSON value and discards it. depth bounds nesting so a
// hostile record cannot exhaust the stack.
func (s *scanner) skipValue(depth int) {
	if depth > 64 {
		s.fail("nesting deeper than 64 levels at byte %d", s.pos)
		return
	}
	switch s.peek() {
	case '"':
		s.skipString()
	case '{':
		s.pos++
		if s.peek() == '}' {
			s.pos++
			return
		}
		for s.err == nil {
			s.skipString()
			s.expect(':')
			s.skipValue(depth + 1)
			if s.peek() == ',' {
				s.pos++
				continue
			}
			s.expect('}')
			return
		}
	case '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			return
		}
		for s.err == nil {
			s.skipValue(depth + 1)
			if s.peek() == ',' {
				s.pos++
				continue
			}
			s.expect(']')
			return
		}
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	case 0:
		s.fail("unexpected end of input")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		s.number()
	default:
		if s.pos == 0 && len(s.data) >= 3 && string(s.data[:3]) == "\xef\xbb\xbf" {
			s.fail("record starts with a UTF-8 byte order mark")
			return
		}
		s.fail("unexpected %q at byte %d", s.data[s.pos], s.pos)
	}
}

// skipString checks a string's syntax without decoding it.
func (s *scanner) skipString() {
	if !s.expect('"') {
		return
	}
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return
		case c == '\\':
			if s.pos+1 >= len(s.data) {
				s.fail("unterminated string starting at byte %d", start-1)
				return
			}
			switch s.data[s.pos+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos += 2
			case 'u':
				s.pos += 2
				if _, ok := s.hex4(); !ok {
					return
				}
			default:
				s.fail("invalid escape at byte %d", s.pos)
				return
			}
			continue
		case c < 0x20:
			s.fail("control character 0x%02x in string at byte %d", c, s.pos)
			return
		}
		s.pos++
	}
	s.fail("unterminated string starting at byte %d", start-1)
}

// field ids of the known keys.
const (
	fUnknown = iota
	fEventID
	fEventType
	fEventTime
	fUserID
	fSessionID
	fSource
	fValue
	fAttributes
	fReceivedTime
)

func fieldID(key string) int {
	switch key {
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
	case "received_time":
		return fReceivedTime
	}
	return fUnknown
}

var fieldNames = [...]string{fEventID: "event_id", fEventType: "event_type", fEventTime: "event_time",
	fUserID: "user_id", fSessionID: "session_id", fSource: "source", fValue: "value",
	fAttributes: "attributes", fReceivedTime: "received_time"}

func jsonType(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// parseWith reads one event object. enriched also reads received_time;
// dropAttrs checks attributes without keeping them.
func parseWith(data []byte, enriched, dropAttrs bool) (Event, *Rejection) {
	if !utf8.Valid(data) {
		return Event{}, reject(ReasonNotUTF8, "", "record is not valid UTF-8")
	}
	s := scanner{data: data, src: string(data), dropAttrs: dropAttrs}
	var e Event
	var fieldErr *Rejection
	var seen [fReceivedTime + 1]bool
	setErr := func(r *Rejection) {
		if fieldErr == nil {
			fieldErr = r
		}
	}
	if s.peek() != '{' {
		if s.peek() == 0 {
			return Event{}, reject(ReasonInvalidJSON, "", "record is empty")
		}
		s.skipValue(0)
		if s.err != nil {
			return Event{}, s.err
		}
		return Event{}, reject(ReasonInvalidJSON, "", "record is a JSON %s, not an object", jsonType(data[firstNonSpace(data)]))
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
	} else {
		for s.err == nil {
			id, ok := s.knownKey()
			if !ok {
				key := s.str()
				s.expect(':')
				if s.err != nil {
					break
				}
				id = fieldID(key)
			}
			if id == fReceivedTime && !enriched {
				id = fUnknown
			}
			c := s.peek()
			switch {
			case id == fUnknown:
				s.skipValue(1)
			case c == 'n':
				// null: the field is absent (a required one is reported as missing).
				s.literal("null")
				seen[id] = false
				s.clearField(&e, id)
			default:
				seen[id] = true
				if r := s.field(&e, id, c); r != nil {
					setErr(r)
				}
			}
			if s.err != nil {
				break
			}
			if s.peek() == ',' {
				s.pos++
				continue
			}
			s.expect('}')
			break
		}
	}
	if s.err == nil {
		s.skipSpace()
		if s.pos != len(data) {
			s.fail("unexpected %q after the object at byte %d", data[s.pos], s.pos)
		}
	}
	if s.err != nil {
		return Event{}, s.err
	}
	if fieldErr != nil {
		return Event{}, fieldErr
	}
	for _, id := range [...]int{fEventID, fEventType, fEventTime, fUserID} {
		if !seen[id] {
			return Event{}, reject(ReasonMissingField, fieldNames[id], "required field is absent or null")
		}
	}
	if enriched && !seen[fReceivedTime] {
		return Event{}, reject(ReasonMissingField, "received_time", "required in an enriched event")
	}
	if e.Source == "" {
		e.Source = DefaultSource
	}
	return e, nil
}

func firstNonSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
	}
	return 0
}

func (s *scanner) clearField(e *Event, id int) {
	switch id {
	case fEventID:
		e.EventID = ""
	case fEventType:
		e.EventType = ""
	case fEventTime:
		e.EventTime = time.Time{}
	case fUserID:
		e.UserID = ""
	case fSessionID:
		e.SessionID = ""
	case fSource:
		e.Source = ""
	case fValue:
		e.Value, e.HasValue = 0, false
	case fAttributes:
		e.Attributes = nil
	case fReceivedTime:
		e.ReceivedTime = time.Time{}
	}
}

// field reads the value of a known field whose first byte is c. A syntax
// error is left in s.err; a type or rule error is returned.
func (s *scanner) field(e *Event, id int, c byte) *Rejection {
	name := fieldNames[id]
	switch id {
	case fEventID, fEventType, fUserID, fSessionID, fSource:
		if c != '"' {
			s.skipValue(1)
			return reject(ReasonBadType, name, "want a string, got a JSON %s", jsonType(c))
		}
		v := s.str()
		if s.err != nil {
			return nil
		}
		switch id {
		case fEventID:
			if !ValidEventID(v) {
				return reject(ReasonBadValue, name, "length %d bytes, want 1..%d", len(v), MaxEventIDBytes)
			}
			e.EventID = v
		case fUserID:
			if !ValidUserID(v) {
				return reject(ReasonBadValue, name, "length %d bytes, want 1..%d", len(v), MaxUserIDBytes)
			}
			e.UserID = v
		case fEventType:
			if !ValidEventType(v) {
				return reject(ReasonBadValue, name, "%q does not match ^[a-z][a-z0-9_.-]{0,63}$", clip(v))
			}
			e.EventType = v
		case fSessionID:
			if !ValidSessionID(v) {
				return reject(ReasonBadValue, name, "length %d bytes, the limit is %d", len(v), MaxSessionBytes)
			}
			e.SessionID = v
		case fSource:
			if !ValidSource(v) {
				return reject(ReasonBadValue, name, "length %d bytes, the limit is %d", len(v), MaxSourceBytes)
			}
			e.Source = v
		}
	case fEventTime, fReceivedTime:
		var t time.Time
		switch {
		case c == '"':
			v := s.str()
			if s.err != nil {
				return nil
			}
			var ok bool
			if t, ok = ParseTime(v); !ok {
				return reject(ReasonBadValue, name, "%q is not an RFC 3339 time in years 0000..9999", clip(v))
			}
		case c == '-' || ('0' <= c && c <= '9'):
			num, integer := s.number()
			if s.err != nil {
				return nil
			}
			if !integer {
				return reject(ReasonBadType, name, "%s is not an integer of epoch milliseconds", num)
			}
			ms, err := strconv.ParseInt(string(num), 10, 64)
			if err != nil || ms < MinEpochMillis || !ValidTimeMillis(ms) {
				return reject(ReasonBadValue, name, "epoch milliseconds %s out of range", num)
			}
			t = time.UnixMilli(ms).UTC()
		default:
			s.skipValue(1)
			return reject(ReasonBadType, name, "want an RFC 3339 string or epoch milliseconds, got a JSON %s", jsonType(c))
		}
		if id == fEventTime {
			e.EventTime = t
		} else {
			e.ReceivedTime = t
		}
	case fValue:
		if c != '-' && (c < '0' || c > '9') {
			s.skipValue(1)
			return reject(ReasonBadType, name, "want a number, got a JSON %s", jsonType(c))
		}
		num, _ := s.number()
		if s.err != nil {
			return nil
		}
		v, err := strconv.ParseFloat(string(num), 64)
		if err != nil || !ValidValue(v) {
			return reject(ReasonBadValue, name, "%s is not a finite number", clip(string(num)))
		}
		e.Value, e.HasValue = v, true
	case fAttributes:
		if c != '{' {
			s.skipValue(1)
			return reject(ReasonBadType, name, "want an object of strings, got a JSON %s", jsonType(c))
		}
		return s.attributes(e)
	}
	return nil
}

func (s *scanner) attributes(e *Event) *Rejection {
	if s.dropAttrs {
		return s.checkAttributes()
	}
	s.pos++ // '{'
	attrs := map[string]string{}
	var rej *Rejection
	if s.peek() == '}' {
		s.pos++
		e.Attributes = attrs
		return nil
	}
	for s.err == nil {
		k := s.str()
		s.expect(':')
		if s.err != nil {
			return nil
		}
		if c := s.peek(); c != '"' {
			s.skipValue(2)
			if rej == nil {
				rej = reject(ReasonBadType, "attributes", "value of %q is a JSON %s, want a string", clip(k), jsonType(c))
			}
		} else {
			attrs[k] = s.str()
		}
		if s.peek() == ',' {
			s.pos++
			continue
		}
		s.expect('}')
		break
	}
	if s.err != nil || rej != nil {
		return rej
	}
	if !ValidAttributeCount(len(attrs)) {
		return reject(ReasonBadValue, "attributes", "%d keys, the limit is %d", len(attrs), MaxAttributes)
	}
	e.Attributes = attrs
	return nil
}

// checkAttributes is attributes without keeping them: it reads keys and
// values the same way (strings cut from the record cost no allocation) and
// counts the values. Where the outcome needs the map (a value that is not a
// string, or more than MaxAttributes values, where a repeated key counts
// once) it reads the object again with attributes, so the rejection is the
// same.
func (s *scanner) checkAttributes() *Rejection {
	start := s.pos
	s.pos++ // '{'
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	n := 0
	for s.err == nil {
		s.str()
		s.expect(':')
		if s.err != nil {
			return nil
		}
		if s.peek() != '"' {
			return s.attributesAgain(start)
		}
		s.str()
		n++
		if s.peek() == ',' {
			s.pos++
			continue
		}
		s.expect('}')
		break
	}
	if s.err != nil || ValidAttributeCount(n) {
		return nil
	}
	return s.attributesAgain(start)
}

// attributesAgain reads the attributes object at start with a map, for the
// rare records whose rejection needs it, and drops the map.
func (s *scanner) attributesAgain(start int) *Rejection {
	s.pos = start
	s.dropAttrs = false
	var tmp Event
	rej := s.attributes(&tmp)
	s.dropAttrs = true
	return rej
}

// clip shortens a value quoted in a detail message.
func clip(v string) string {
	if len(v) <= 64 {
		return v
	}
	cut := 64
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// parseRFC3339 parses YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM) (T and Z in
// either case) into UTC. It is stricter and much faster than time.Parse.
func parseRFC3339(v string) (time.Time, bool) {
	if len(v) < 20 {
		return time.Time{}, false
	}
	num := func(s string) (int, bool) {
		n := 0
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return 0, false
			}
			n = n*10 + int(s[i]-'0')
		}
		return n, true
	}
	year, ok1 := num(v[0:4])
	month, ok2 := num(v[5:7])
	day, ok3 := num(v[8:10])
	hour, ok4 := num(v[11:13])
	minute, ok5 := num(v[14:16])
	sec, ok6 := num(v[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || v[4] != '-' || v[7] != '-' ||
		(v[10] != 'T' && v[10] != 't') || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	rest := v[19:]
	nsec := 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && '0' <= rest[i] && rest[i] <= '9' {
			if i <= 9 {
				nsec = nsec*10 + int(rest[i]-'0')
			}
			i++
		}
		if i == 1 {
			return time.Time{}, false
		}
		for d := i; d <= 9; d++ {
			nsec *= 10
		}
		rest = rest[i:]
	}
	offset := 0
	switch {
	case rest == "Z" || rest == "z":
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(offset) * time.Second)
	return t, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
