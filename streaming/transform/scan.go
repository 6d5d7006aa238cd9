package transform

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
)

// scan is a small JSON reader for the Firehose event: it finds spans and
// checks syntax, and decodes nothing it does not have to.
//
// What it buys: Invoke reads the event and writes the response without
// reflection, and hands each record on as soon as it is read. On
// bench/transform.sh's event the handler does 1.10M records per
// CPU-second where the same logic on encoding/json does 52K (21x;
// docs/benchmarks.md, "Performance round 2", perf-transform). It is not the speed
// layer's reader (streaming/speed's evParser): that one fills
// aws-lambda-go's types under encoding/json's rules for them, this one
// calls back with spans of the payload, and what the two have in common
// (strings, numbers, skipping) is a few dozen lines each.
type scan struct {
	p   []byte
	i   int
	err string
	// comma tracks, per open container, whether an element was read.
	first bool
}

func (s *scan) error() error {
	if s.err == "" {
		s.err = "malformed JSON"
	}
	return eventError("%s at byte %d", s.err, s.i)
}

func (s *scan) fail(msg string) bool {
	if s.err == "" {
		s.err = msg
	}
	return false
}

func (s *scan) ws() { s.i = skipWS(s.p, s.i) }

// skipWS returns the index of the first byte at or after i that is not
// JSON white space, or len(p).
func skipWS(p []byte, i int) int {
	for i < len(p) {
		if c := p[i]; c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
			return i
		}
		i++
	}
	return i
}

func (s *scan) peek() byte {
	s.ws()
	if s.i < len(s.p) {
		return s.p[s.i]
	}
	return 0
}

func (s *scan) expect(c byte) bool {
	if s.peek() != c {
		return s.fail("unexpected character, want " + string(c))
	}
	s.i++
	s.first = true
	return true
}

// more reports whether the container closed by end has another element,
// consuming the separating comma or the closing byte.
func (s *scan) more(end byte) bool {
	if s.err != "" {
		return false
	}
	c := s.peek()
	if c == end {
		s.i++
		s.first = false
		return false
	}
	if s.first {
		s.first = false
		return true
	}
	if c != ',' {
		return s.fail("want , or " + string(end))
	}
	s.i++
	return true
}

// str reads a string and returns the span of its content, eight bytes at a
// time (keys and short values). Control bytes are not looked for here:
// strings that are copied to the response (recordId) are checked by the
// caller, and the rest are only skipped.
func (s *scan) str() (span, bool) {
	if s.peek() != '"' {
		return span{}, s.fail("want a string")
	}
	s.i++
	return s.strFrom(span{start: s.i})
}

func (s *scan) strFrom(sp span) (span, bool) {
	p, i := s.p, s.i
	for {
		i = quoteOrBackslash(p, i)
		if i >= len(p) {
			s.i = len(p)
			return span{}, s.fail("unterminated string")
		}
		if p[i] == '"' {
			sp.end = i
			s.i = i + 1
			return sp, true
		}
		sp.escaped = true
		i += 2 // the backslash and the byte it escapes
	}
}

// longStr reads a long string that rarely has escapes (base64 data).
// Control characters are not checked here (see str).
func (s *scan) longStr() (span, bool) {
	if s.peek() != '"' {
		return span{}, s.fail("want a string")
	}
	s.i++
	sp := span{start: s.i}
	p, i := s.p, s.i
	// Vectorized searches for the closing quote, then for a backslash
	// before it; a string with escapes takes the byte-wise path.
	if q := bytes.IndexByte(p[i:], '"'); q >= 0 && bytes.IndexByte(p[i:i+q], '\\') < 0 {
		sp.end = i + q
		s.i = sp.end + 1
		return sp, true
	}
	return s.strFrom(sp)
}

// quoteOrBackslash returns the index of the first '"' or '\\' in p at or
// after i, or len(p), eight bytes at a time (the lowest flagged byte of a
// word is exact).
func quoteOrBackslash(p []byte, i int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(p); i += 8 {
		x := binary.LittleEndian.Uint64(p[i:])
		q, b := x^(lo*'"'), x^(lo*'\\')
		if t := (((q - lo) &^ q) | ((b - lo) &^ b)) & hi; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	for ; i < len(p); i++ {
		if p[i] == '"' || p[i] == '\\' {
			return i
		}
	}
	return len(p)
}

// key reads an object key and the colon after it.
func (s *scan) key() (string, bool) {
	sp, ok := s.str()
	if !ok {
		return "", false
	}
	if s.peek() != ':' {
		return "", s.fail("want :")
	}
	s.i++
	k := s.p[sp.start:sp.end]
	if sp.escaped {
		var v string
		if json.Unmarshal(s.p[sp.start-1:sp.end+1], &v) != nil {
			return "", s.fail("bad escape in key")
		}
		return v, true
	}
	switch string(k) { // compared in place, and constants returned: no allocation
	case "records":
		return "records", true
	case "recordId":
		return "recordId", true
	case "data":
		return "data", true
	case "approximateArrivalTimestamp":
		return "approximateArrivalTimestamp", true
	case "kafkaRecordValue":
		return "kafkaRecordValue", true
	case "mskRecordMetadata":
		return "mskRecordMetadata", true
	}
	// encoding/json also matches keys case-insensitively.
	for _, name := range [...]string{"records", "recordId", "data", "approximateArrivalTimestamp", "kafkaRecordValue", "mskRecordMetadata"} {
		if len(k) == len(name) && bytes.EqualFold(k, []byte(name)) {
			return name, true
		}
	}
	return "", true
}

func (s *scan) number() ([]byte, bool) {
	s.ws()
	end, ok := numberEnd(s.p, s.i)
	if !ok {
		return nil, s.fail("want a number")
	}
	num := s.p[s.i:end]
	s.i = end
	return num, true
}

// numberEnd returns the end of the JSON number that starts at p[i];
// ok=false when none does.
func numberEnd(p []byte, i int) (int, bool) {
	digits := func() bool {
		j := i
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(p) && p[i] == '-' {
		i++
	}
	if i < len(p) && p[i] == '0' {
		i++
	} else if !digits() {
		return 0, false
	}
	if i < len(p) && p[i] == '.' {
		i++
		if !digits() {
			return 0, false
		}
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		if !digits() {
			return 0, false
		}
	}
	return i, true
}

func (s *scan) literal(w string) bool {
	s.ws()
	if len(s.p)-s.i >= len(w) && string(s.p[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return s.fail("bad literal")
}

func (s *scan) skipValue(depth int) bool {
	if depth > 64 {
		return s.fail("nesting too deep")
	}
	switch s.peek() {
	case '"':
		_, ok := s.str()
		return ok
	case '{':
		s.expect('{')
		for s.more('}') {
			// The names of skipped members do not matter: no lookup.
			if _, ok := s.str(); !ok {
				return false
			}
			if s.peek() != ':' {
				return s.fail("want :")
			}
			s.i++
			if !s.skipValue(depth + 1) {
				return false
			}
		}
		return s.err == ""
	case '[':
		s.expect('[')
		for s.more(']') {
			if !s.skipValue(depth + 1) {
				return false
			}
		}
		return s.err == ""
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	_, ok := s.number()
	return ok
}

// fastRecord reads the record object at or after p[i] when it is written
// as Firehose writes one: recordId, data or kafkaRecordValue as strings
// without escapes, approximateArrivalTimestamp as a whole number, and
// kinesisRecordMetadata or mskRecordMetadata as an object of strings
// without escapes, numbers and literals, in any order, with or without
// white space. It returns the index after the object; ok=false for
// anything else (another key, null, escapes, nesting, a syntax error), and
// the caller reads the record again with record, which decides. The
// syntax is checked as record checks it; the gain is in reading each key
// and value where it stands, with local indexes, in one function: 6–8%
// more records per CPU-second on bench/transform.sh's event.
func fastRecord(p []byte, i int, r *inRecord) (int, bool) {
	i = skipWS(p, i)
	if i >= len(p) || p[i] != '{' {
		return 0, false
	}
	i = skipWS(p, i+1)
	if i < len(p) && p[i] == '}' {
		return i + 1, true
	}
	for {
		if i >= len(p) || p[i] != '"' {
			return 0, false
		}
		ks := i + 1
		ke := quoteOrBackslash(p, ks)
		if ke >= len(p) || p[ke] != '"' {
			return 0, false
		}
		if i = skipWS(p, ke+1); i >= len(p) || p[i] != ':' {
			return 0, false
		}
		if i = skipWS(p, i+1); i >= len(p) {
			return 0, false
		}
		switch string(p[ks:ke]) {
		case "recordId":
			e, ok := plainStr(p, i)
			if !ok {
				return 0, false
			}
			r.id, r.hasID = span{start: i + 1, end: e}, true
			i = e + 1
		case "data", "kafkaRecordValue":
			if p[i] != '"' {
				return 0, false
			}
			q := bytes.IndexByte(p[i+1:], '"')
			if q < 0 || bytes.IndexByte(p[i+1:i+1+q], '\\') >= 0 {
				return 0, false
			}
			r.data, r.hasData = span{start: i + 1, end: i + 1 + q}, true
			r.kafka = r.kafka || ke-ks == len("kafkaRecordValue")
			i += q + 2
		case "approximateArrivalTimestamp":
			j := i
			var ms int64
			for j < len(p) && p[j] >= '0' && p[j] <= '9' {
				ms = ms*10 + int64(p[j]-'0')
				j++
			}
			// Fractions, exponents, signs, leading zeros and long numbers
			// are record's to read.
			if j == i || j-i > 18 || (p[i] == '0' && j-i > 1) || (j < len(p) && (p[j] == '.' || p[j] == 'e' || p[j] == 'E')) {
				return 0, false
			}
			r.arrivalMs, r.hasArrival = ms, ms > 0 // 0 means not set
			i = j
		case "kinesisRecordMetadata", "mskRecordMetadata":
			var ok bool
			if i, ok = skipFlatObject(p, i); !ok {
				return 0, false
			}
			r.kafka = r.kafka || ke-ks == len("mskRecordMetadata")
		default:
			return 0, false
		}
		next, more, ok := memberEnd(p, i)
		if !ok || !more {
			return next, ok
		}
		i = next
	}
}

// memberEnd reads what follows an object member at or after p[i]: a comma
// (more=true, next is where the next member starts) or the closing brace
// (more=false, next is past it); ok=false for anything else.
func memberEnd(p []byte, i int) (next int, more, ok bool) {
	if i = skipWS(p, i); i < len(p) {
		switch p[i] {
		case ',':
			return skipWS(p, i+1), true, true
		case '}':
			return i + 1, false, true
		}
	}
	return 0, false, false
}

// plainStr returns the index of the closing quote of the string that
// starts at p[i], when it has no escapes; ok=false otherwise.
func plainStr(p []byte, i int) (int, bool) {
	if i >= len(p) || p[i] != '"' {
		return 0, false
	}
	e := quoteOrBackslash(p, i+1)
	return e, e < len(p) && p[e] == '"'
}

// skipFlatObject skips the object at p[i] when its values are strings
// without escapes, numbers or literals, checking its syntax; ok=false for
// anything else (fastRecord's caller decides).
func skipFlatObject(p []byte, i int) (int, bool) {
	if p[i] != '{' {
		return 0, false
	}
	i = skipWS(p, i+1)
	if i < len(p) && p[i] == '}' {
		return i + 1, true
	}
	for {
		e, ok := plainStr(p, i)
		if !ok {
			return 0, false
		}
		if i = skipWS(p, e+1); i >= len(p) || p[i] != ':' {
			return 0, false
		}
		if i = skipWS(p, i+1); i >= len(p) {
			return 0, false
		}
		switch c := p[i]; {
		case c == '"':
			if e, ok = plainStr(p, i); !ok {
				return 0, false
			}
			i = e + 1
		case c == '-' || (c >= '0' && c <= '9'):
			if i, ok = numberEnd(p, i); !ok {
				return 0, false
			}
		default:
			var lit string
			switch c {
			case 't':
				lit = "true"
			case 'f':
				lit = "false"
			case 'n':
				lit = "null"
			default:
				return 0, false // nested, or malformed
			}
			if len(p)-i < len(lit) || string(p[i:i+len(lit)]) != lit {
				return 0, false
			}
			i += len(lit)
		}
		next, more, ok := memberEnd(p, i)
		if !ok || !more {
			return next, ok
		}
		i = next
	}
}
