// Package b64 is a hand-written standard (padded) base64 codec for the
// ingest hot paths: the Firehose transform decodes every record and encodes
// every response, and the speed layer decodes every Kinesis record.
// AppendEncode writes the same bytes as base64.StdEncoding.AppendEncode;
// AppendDecode accepts exactly what base64.StdEncoding.AppendDecode accepts
// (anything irregular, such as line breaks or missing padding, falls back
// to encoding/base64).
//
// It buys speed over encoding/base64: with AppendEncode and AppendDecode of
// encoding/base64 instead, bench/transform.sh's transform handler does 17%
// fewer records per CPU-second and `lambdastack transform` on its 29-event
// file takes 12–15% more CPU time (docs/benchmarks.md, "Performance round
// 2"). The encoder turns 12 bits into two characters with one 4096-entry
// table lookup; the decoder turns two characters into 12 bits with one
// 65536-entry lookup, eight characters per 64-bit load.
package b64

import (
	"encoding/base64"
	"encoding/binary"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// b64Pairs maps 12 bits to their two base64 characters.
var b64Pairs = func() (t [4096]uint16) {
	for i := range t {
		t[i] = uint16(b64Alphabet[i>>6])<<8 | uint16(b64Alphabet[i&63])
	}
	return t
}()

// AppendEncode appends the standard (padded) base64 encoding of src, the
// same bytes as base64.StdEncoding.AppendEncode, six input bytes per step.
func AppendEncode(dst, src []byte) []byte {
	n := (len(src) + 2) / 3 * 4
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, 2*cap(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	// Advancing slices rather than indexes keeps the bounds checks out of
	// the loop. Eight bytes are loaded to use six: stop while eight remain.
	in, out := src, dst[start:]
	// Four steps per iteration: 24 input bytes to 32 characters.
	for len(in) >= 26 && len(out) >= 32 {
		v0, v1 := binary.BigEndian.Uint64(in), binary.BigEndian.Uint64(in[6:])
		v2, v3 := binary.BigEndian.Uint64(in[12:]), binary.BigEndian.Uint64(in[18:])
		binary.BigEndian.PutUint64(out, uint64(b64Pairs[v0>>52])<<48|uint64(b64Pairs[v0>>40&0xfff])<<32|
			uint64(b64Pairs[v0>>28&0xfff])<<16|uint64(b64Pairs[v0>>16&0xfff]))
		binary.BigEndian.PutUint64(out[8:], uint64(b64Pairs[v1>>52])<<48|uint64(b64Pairs[v1>>40&0xfff])<<32|
			uint64(b64Pairs[v1>>28&0xfff])<<16|uint64(b64Pairs[v1>>16&0xfff]))
		binary.BigEndian.PutUint64(out[16:], uint64(b64Pairs[v2>>52])<<48|uint64(b64Pairs[v2>>40&0xfff])<<32|
			uint64(b64Pairs[v2>>28&0xfff])<<16|uint64(b64Pairs[v2>>16&0xfff]))
		binary.BigEndian.PutUint64(out[24:], uint64(b64Pairs[v3>>52])<<48|uint64(b64Pairs[v3>>40&0xfff])<<32|
			uint64(b64Pairs[v3>>28&0xfff])<<16|uint64(b64Pairs[v3>>16&0xfff]))
		in, out = in[24:], out[32:]
	}
	for len(in) >= 8 && len(out) >= 8 {
		v := binary.BigEndian.Uint64(in)
		binary.BigEndian.PutUint64(out, uint64(b64Pairs[v>>52])<<48|uint64(b64Pairs[v>>40&0xfff])<<32|
			uint64(b64Pairs[v>>28&0xfff])<<16|uint64(b64Pairs[v>>16&0xfff]))
		in, out = in[6:], out[8:]
	}
	for len(in) >= 3 && len(out) >= 4 {
		v := uint32(in[0])<<16 | uint32(in[1])<<8 | uint32(in[2])
		binary.BigEndian.PutUint16(out, b64Pairs[v>>12])
		binary.BigEndian.PutUint16(out[2:], b64Pairs[v&0xfff])
		in, out = in[3:], out[4:]
	}
	si, di := len(src)-len(in), n-len(out)
	out = dst[start:]
	switch len(src) - si {
	case 1:
		v := uint32(src[si]) << 16
		out[di], out[di+1], out[di+2], out[di+3] = b64Alphabet[v>>18], b64Alphabet[v>>12&63], '=', '='
	case 2:
		v := uint32(src[si])<<16 | uint32(src[si+1])<<8
		out[di], out[di+1], out[di+2], out[di+3] = b64Alphabet[v>>18], b64Alphabet[v>>12&63], b64Alphabet[v>>6&63], '='
	}
	return dst
}

// b64Decode2 maps two base64 characters (as a big-endian uint16) to their
// 12 bits, or 0xFFFF when either is not in the standard alphabet.
var b64Decode2 = func() *[65536]uint16 {
	var one [256]int
	for i := range one {
		one[i] = -1
	}
	for i := range len(b64Alphabet) {
		one[b64Alphabet[i]] = i
	}
	t := new([65536]uint16)
	for i := range t {
		a, b := one[i>>8], one[i&0xff]
		if a < 0 || b < 0 {
			t[i] = 0xFFFF
		} else {
			t[i] = uint16(a<<6 | b)
		}
	}
	return t
}()

// AppendDecode appends the decoding of standard, padded base64 src
// and reports whether src was valid; on failure dst is returned unchanged. It decodes eight characters per step,
// then the last quantum with its padding; anything irregular (line breaks,
// bad characters, missing padding) goes to encoding/base64, so it accepts
// exactly what base64.StdEncoding.AppendDecode accepts, as encoding/json
// does for []byte.
func AppendDecode(dst, src []byte) ([]byte, bool) {
	if len(src)%4 != 0 || len(src) == 0 {
		return stdDecode(dst, src)
	}
	start := len(dst)
	need := len(src) / 4 * 3
	if cap(dst)-start < need+2 {
		grown := make([]byte, start, start+need+8)
		copy(grown, dst)
		dst = grown
	}
	out := dst[start : start+need+2] // two spare bytes for the 8-byte stores
	// The final quantum may hold padding: it is done last. Advancing slices
	// keep the bounds checks out of the loops.
	in, o := src[:len(src)-4], out
	// Four steps per iteration: 32 characters to 24 bytes.
	for len(in) >= 32 && len(o) >= 26 {
		v0, v1 := binary.BigEndian.Uint64(in), binary.BigEndian.Uint64(in[8:])
		v2, v3 := binary.BigEndian.Uint64(in[16:]), binary.BigEndian.Uint64(in[24:])
		a0, b0, c0, d0 := b64Decode2[v0>>48], b64Decode2[v0>>32&0xffff], b64Decode2[v0>>16&0xffff], b64Decode2[v0&0xffff]
		a1, b1, c1, d1 := b64Decode2[v1>>48], b64Decode2[v1>>32&0xffff], b64Decode2[v1>>16&0xffff], b64Decode2[v1&0xffff]
		a2, b2, c2, d2 := b64Decode2[v2>>48], b64Decode2[v2>>32&0xffff], b64Decode2[v2>>16&0xffff], b64Decode2[v2&0xffff]
		a3, b3, c3, d3 := b64Decode2[v3>>48], b64Decode2[v3>>32&0xffff], b64Decode2[v3>>16&0xffff], b64Decode2[v3&0xffff]
		if (a0|b0|c0|d0|a1|b1|c1|d1|a2|b2|c2|d2|a3|b3|c3|d3)&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		binary.BigEndian.PutUint64(o, uint64(a0)<<52|uint64(b0)<<40|uint64(c0)<<28|uint64(d0)<<16)
		binary.BigEndian.PutUint64(o[6:], uint64(a1)<<52|uint64(b1)<<40|uint64(c1)<<28|uint64(d1)<<16)
		binary.BigEndian.PutUint64(o[12:], uint64(a2)<<52|uint64(b2)<<40|uint64(c2)<<28|uint64(d2)<<16)
		binary.BigEndian.PutUint64(o[18:], uint64(a3)<<52|uint64(b3)<<40|uint64(c3)<<28|uint64(d3)<<16)
		in, o = in[32:], o[24:]
	}
	for len(in) >= 8 && len(o) >= 8 {
		v := binary.BigEndian.Uint64(in)
		a, b, c, d := b64Decode2[v>>48], b64Decode2[v>>32&0xffff], b64Decode2[v>>16&0xffff], b64Decode2[v&0xffff]
		if (a|b|c|d)&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		binary.BigEndian.PutUint64(o, uint64(a)<<52|uint64(b)<<40|uint64(c)<<28|uint64(d)<<16)
		in, o = in[8:], o[6:]
	}
	for len(in) >= 4 && len(o) >= 3 {
		a, b := b64Decode2[uint16(in[0])<<8|uint16(in[1])], b64Decode2[uint16(in[2])<<8|uint16(in[3])]
		if (a|b)&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		v := uint32(a)<<12 | uint32(b)
		o[0], o[1], o[2] = byte(v>>16), byte(v>>8), byte(v)
		in, o = in[4:], o[3:]
	}
	si, di := len(src)-4, len(out)-len(o)
	q := src[si:]
	a := b64Decode2[uint16(q[0])<<8|uint16(q[1])]
	if a&0xF000 != 0 {
		return stdDecode(dst[:start], src)
	}
	switch {
	case q[2] == '=' && q[3] == '=':
		out[di] = byte(a >> 4)
		di++
	case q[3] == '=':
		c := b64Decode2[uint16(q[2])<<8|'A']
		if c&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		v := uint32(a)<<12 | uint32(c)
		out[di], out[di+1] = byte(v>>16), byte(v>>8)
		di += 2
	default:
		b := b64Decode2[uint16(q[2])<<8|uint16(q[3])]
		if b&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		v := uint32(a)<<12 | uint32(b)
		out[di], out[di+1], out[di+2] = byte(v>>16), byte(v>>8), byte(v)
		di += 3
	}
	return dst[:start+di], true
}

func stdDecode(dst, src []byte) ([]byte, bool) {
	out, err := base64.StdEncoding.AppendDecode(dst, src)
	if err != nil {
		return dst, false
	}
	return out, true
}
