package speed

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

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

// TestDecimal holds decimal to strconv.ParseFloat and json.Valid: on
// random numbers of every length and fraction it accepts, and on the forms
// it must leave to them.
func TestDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		digits := 1 + rng.IntN(15)
		num := strconv.FormatUint(rng.Uint64N(pow10u(digits)), 10)
		if k := rng.IntN(len(num) + 1); k > 0 {
			num = num[:len(num)-k] + "." + num[len(num)-k:]
			if num[0] == '.' {
				num = "0" + num
			}
		}
		got, ok := decimal([]byte(num))
		want, err := strconv.ParseFloat(num, 64)
		if !json.Valid([]byte(num)) || err != nil {
			t.Fatalf("the test made %q, not a JSON number", num)
		}
		if ok && got != want {
			t.Fatalf("decimal(%q) = %v, strconv %v", num, got, want)
		}
		if !ok && len(strings.ReplaceAll(num, ".", "")) <= 15 && (num[0] != '0' || len(num) == 1 || num[1] == '.') {
			t.Fatalf("decimal(%q) refused a plain number", num)
		}
	}
	for _, num := range []string{"", "-1", "01", "1.", ".5", "1e3", "1.2.3", "1234567890123456", "+1", "0x1", "1-"} {
		if _, ok := decimal([]byte(num)); ok {
			t.Fatalf("decimal(%q) accepted what it must leave to strconv and json.Valid", num)
		}
	}
}

func pow10u(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}
