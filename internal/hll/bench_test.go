package hll_test

import (
	"strconv"
	"testing"

	"github.com/lambdastack/lambdastack/internal/hll"
)

// denseSketch is the sketch of n distinct users, dense from n > 511.
func denseSketch(n int) *hll.Sketch {
	s := hll.New()
	for i := range n {
		s.AddString("user-" + strconv.Itoa(i))
	}
	return s
}

// The dense operations a merge does per view row: decode, union,
// estimate, encode (2 000 users: a busy hour's row).
//
//	go test ./internal/hll -run '^$' -bench Dense
func BenchmarkDenseDecode(b *testing.B) {
	data, err := denseSketch(2000).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := hll.Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UnmarshalBinary", func(b *testing.B) {
		s := hll.New()
		for b.Loop() {
			if err := s.UnmarshalBinary(data); err != nil {
				b.Fatal(err)
			}
		}
	})

}

func BenchmarkDenseUnion(b *testing.B) {
	x, y := denseSketch(2000), denseSketch(3000)
	for b.Loop() {
		if err := x.Union(y); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDenseCardinality(b *testing.B) {
	s := denseSketch(2000)
	for b.Loop() {
		s.Cardinality()
	}
}

func BenchmarkDenseAppendBinary(b *testing.B) {
	s := denseSketch(2000)
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		var err error
		if buf, err = s.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
