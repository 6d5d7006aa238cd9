package hll

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// maxRegisters agrees with a byte-by-byte max for every pair of register
// values a sketch can hold, in every lane of the eight-byte words.
func TestMaxRegisters(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		var a, b, want [Buckets]uint8
		for i := range a {
			a[i], b[i] = uint8(r.IntN(maxRegister+1)), uint8(r.IntN(maxRegister+1))
			if trial == 0 { // every pair of values at least once
				a[i], b[i] = uint8(i%(maxRegister+1)), uint8(i/(maxRegister+1)%(maxRegister+1))
			}
			want[i] = max(a[i], b[i])
		}
		maxRegisters(&a, &b)
		if a != want {
			for i := range a {
				if a[i] != want[i] {
					t.Fatalf("trial %d register %d: %d, want %d", trial, i, a[i], want[i])
				}
			}
		}
	}
}

// minRegister agrees with slices.Min for every register value in every
// lane of the eight-byte words.
func TestMinRegister(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		var a [Buckets]uint8
		for i := range a {
			a[i] = uint8(maxRegister - r.IntN(4))
		}
		a[r.IntN(Buckets)] = uint8(trial % (maxRegister + 1))
		if got, want := minRegister(&a), slices.Min(a[:]); got != want {
			t.Fatalf("trial %d: %d, want %d", trial, got, want)
		}
	}
}
