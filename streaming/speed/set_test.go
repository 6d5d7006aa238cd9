package speed

import (
	"math/rand/v2"
	"testing"
)

func TestFPSetMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := newFPSet(3) // small: forces growth
	m := map[uint64]bool{}
	for i := range 20000 {
		var fp uint64
		switch {
		case i%10 == 0:
			fp = 0 // the special case
		case i%3 == 0:
			fp = uint64(r.IntN(500)) << 40 // collisions in the low bits
		default:
			fp = r.Uint64() % 30000
		}
		if got, want := s.add(fp), !m[fp]; got != want {
			t.Fatalf("add(%d) = %v, want %v", fp, got, want)
		}
		m[fp] = true
	}
	n := s.n
	if s.hasZero {
		n++
	}
	if n != len(m) {
		t.Fatalf("set holds %d, map %d", n, len(m))
	}
}
