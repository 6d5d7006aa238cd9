package speed

import "testing"

// TestPlainASCII holds the eight-at-a-time check to the byte-wise rule,
// for every byte at every position of strings of up to 20 bytes.
func TestPlainASCII(t *testing.T) {
	want := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c >= 0x80 || c == '\\' {
				return false
			}
		}
		return true
	}
	for n := 1; n <= 20; n++ {
		for pos := range n {
			for c := range 256 {
				b := make([]byte, n)
				for i := range b {
					b[i] = 'a' + byte(i%26)
				}
				b[pos] = byte(c)
				if got := plainASCII(b); got != want(b) {
					t.Fatalf("%q: %v, want %v", b, got, !got)
				}
			}
		}
	}
}
