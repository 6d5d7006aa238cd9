package transform

import "encoding/binary"

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
