package transform

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

// appendBase64 appends the standard (padded) base64 encoding of src, the
// same bytes as base64.StdEncoding.AppendEncode, six input bytes per step.
func appendBase64(dst, src []byte) []byte {
	n := (len(src) + 2) / 3 * 4
	start := len(dst)
	if cap(dst)-start < n {
		grown := make([]byte, start, 2*cap(dst)+n)
		copy(grown, dst)
		dst = grown
	}
	dst = dst[:start+n]
	out := dst[start:]
	si, di := 0, 0
	// 8 bytes are loaded to use 6: stop while 8 remain.
	for ; si+8 <= len(src); si, di = si+6, di+8 {
		v := binary.BigEndian.Uint64(src[si:])
		w := uint64(b64Pairs[v>>52])<<48 | uint64(b64Pairs[v>>40&0xfff])<<32 |
			uint64(b64Pairs[v>>28&0xfff])<<16 | uint64(b64Pairs[v>>16&0xfff])
		binary.BigEndian.PutUint64(out[di:], w)
	}
	for ; si+3 <= len(src); si, di = si+3, di+4 {
		v := uint32(src[si])<<16 | uint32(src[si+1])<<8 | uint32(src[si+2])
		binary.BigEndian.PutUint16(out[di:], b64Pairs[v>>12])
		binary.BigEndian.PutUint16(out[di+2:], b64Pairs[v&0xfff])
	}
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

// appendBase64Decode appends the decoding of standard, padded base64 src
// and reports whether src was valid. It decodes eight characters per step
// and leaves the last quantum, padding and any irregular input (line
// breaks, bad characters) to encoding/base64, so it accepts exactly what
// base64.StdEncoding.AppendDecode accepts, as encoding/json does for []byte.
func appendBase64Decode(dst, src []byte) ([]byte, bool) {
	start := len(dst)
	need := len(src) / 4 * 3
	if cap(dst)-start < need+2 {
		grown := make([]byte, start, start+need+8)
		copy(grown, dst)
		dst = grown
	}
	out := dst[start : start+need+2]
	si, di := 0, 0
	// Keep the last quantum (it may hold padding) for the slow path, and
	// two spare output bytes for the 8-byte store.
	for ; si+8 < len(src)-3 && di+8 <= len(out); si, di = si+8, di+6 {
		v := binary.BigEndian.Uint64(src[si:])
		a, b, c, d := b64Decode2[v>>48], b64Decode2[v>>32&0xffff], b64Decode2[v>>16&0xffff], b64Decode2[v&0xffff]
		if (a|b|c|d)&0xF000 != 0 {
			return stdDecode(dst[:start], src)
		}
		w := uint64(a)<<52 | uint64(b)<<40 | uint64(c)<<28 | uint64(d)<<16
		binary.BigEndian.PutUint64(out[di:], w)
	}
	rest, err := base64.StdEncoding.AppendDecode(dst[:start+di], src[si:])
	if err != nil {
		return stdDecode(dst[:start], src)
	}
	return rest, true
}

func stdDecode(dst, src []byte) ([]byte, bool) {
	out, err := base64.StdEncoding.AppendDecode(dst, src)
	if err != nil {
		return dst, false
	}
	return out, true
}
