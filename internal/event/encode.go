package event

import (
	"math/bits"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the enriched event as one canonical JSON object (no
// newline): the contract's fields in a fixed order, times as RFC 3339 UTC
// with milliseconds, attribute keys sorted, then received_time, dt and hour.
// Equal events give equal bytes.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"event_id":`...)
	dst = appendString(dst, e.EventID)
	dst = append(dst, `,"event_type":`...)
	dst = appendString(dst, e.EventType)
	dst = append(dst, `,"event_time":"`...)
	dst = appendTime(dst, e.EventTime)
	dst = append(dst, `","user_id":`...)
	dst = appendString(dst, e.UserID)
	if e.SessionID != "" {
		dst = append(dst, `,"session_id":`...)
		dst = appendString(dst, e.SessionID)
	}
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, e.Source)
	if e.HasValue {
		dst = append(dst, `,"value":`...)
		dst = strconv.AppendFloat(dst, e.Value, 'g', -1, 64)
	}
	if e.Attributes != nil {
		dst = append(dst, `,"attributes":{`...)
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = appendString(dst, e.Attributes[k])
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"received_time":"`...)
	dst = appendTime(dst, e.ReceivedTime)
	dst = append(dst, `","dt":"`...)
	dst = e.EventTime.UTC().AppendFormat(dst, "2006-01-02")
	dst = append(dst, `","hour":"`...)
	h := e.EventTime.UTC().Hour()
	dst = append(dst, byte('0'+h/10), byte('0'+h%10), '"', '}')
	return dst
}

func appendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, timeLayoutMillis)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string. Invalid UTF-8 (which
// Validate never lets through, but an error envelope's detail may hold) is
// written as U+FFFD, so the output is always valid JSON. It takes the
// bytes of a record as they are, without a copy to a string.
func AppendJSONString[T ~string | ~[]byte](dst []byte, s T) []byte { return appendString(dst, s) }

func appendString[T ~string | ~[]byte](dst []byte, s T) []byte {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight bytes at a time to the next one that needs a look (a
			// quote, backslash, control or non-ASCII byte; the lowest
			// flagged byte of a word is exact): a rejected record's text
			// is copied in runs, and a 33 KB one without stopping.
			w := s[i : i+8] // one bounds check: the compiler merges the loads
			x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			q, b := x^(lo*'"'), x^(lo*'\\')
			t := (((q - lo) &^ q) | ((b - lo) &^ b) | ((x - lo*0x20) &^ x) | x) & hi
			if t == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(t) / 8
		}
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
		r, size := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
