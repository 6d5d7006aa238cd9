package sketch

import (
	"fmt"
	"math"
	"testing"

	"github.com/axiomhq/hyperloglog"
	metro "github.com/dgryski/go-metro"

	"github.com/lambdastack/lambdastack/internal/hll"
)

// userSeed is the seed the views hashed user_ids with for axiomhq.
const userSeed = 0x7573657273686c6c

func users(seed, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("user-%d-%d", seed, i)
	}
	return out
}

func ours(vals []string) *hll.Sketch {
	s := hll.New()
	for _, v := range vals {
		s.AddString(v)
	}
	return s
}

func theirs(vals []string) *hyperloglog.Sketch {
	s := hyperloglog.New14()
	for _, v := range vals {
		s.InsertHash(metro.Hash64Str(v, userSeed))
	}
	return s
}

// BenchmarkAdd adds one user_id (hash included) to a dense sketch, as the
// batch and speed layers do for every event.
func BenchmarkAdd(b *testing.B) {
	vals := users(1, 1<<16)
	b.Run("hll", func(b *testing.B) {
		s := ours(vals[:4096])
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.AddString(vals[i&(len(vals)-1)])
		}
	})
	b.Run("axiomhq", func(b *testing.B) {
		s := theirs(vals[:4096])
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.InsertHash(metro.Hash64Str(vals[i&(len(vals)-1)], userSeed))
		}
	})
}

// BenchmarkAddSparse builds the sketch of 300 users from empty: a small
// key, the common case of an hour's (type, source) row.
func BenchmarkAddSparse(b *testing.B) {
	vals := users(2, 300)
	b.Run("hll", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ours(vals)
		}
	})
	b.Run("axiomhq", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			theirs(vals)
		}
	})
}

// BenchmarkMerge merges one sketch into a copy of another: dense (20 000
// users each) and sparse (300 each), copy included.
func BenchmarkMerge(b *testing.B) {
	for _, n := range []int{300, 20000} {
		x, y := users(3, n), users(4, n)
		b.Run(fmt.Sprintf("hll/%d", n), func(b *testing.B) {
			s, o := ours(x), ours(y)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Clone().Union(o); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("axiomhq/%d", n), func(b *testing.B) {
			s, o := theirs(x), theirs(y)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Clone().Merge(o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCardinality estimates a dense sketch of 100 000 users.
func BenchmarkCardinality(b *testing.B) {
	vals := users(5, 100000)
	b.Run("hll", func(b *testing.B) {
		s := ours(vals)
		for b.Loop() {
			s.Cardinality()
		}
	})
	b.Run("axiomhq", func(b *testing.B) {
		s := theirs(vals)
		for b.Loop() {
			s.Estimate()
		}
	})
}

// BenchmarkEncode encodes and decodes a sketch, reporting its size, at 300
// and 100 000 users.
func BenchmarkEncode(b *testing.B) {
	for _, n := range []int{300, 100000} {
		vals := users(6, n)
		b.Run(fmt.Sprintf("hll/%d", n), func(b *testing.B) {
			s := ours(vals)
			var size int
			for b.Loop() {
				data, err := s.MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				if _, err := hll.Decode(data); err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes")
		})
		b.Run(fmt.Sprintf("axiomhq/%d", n), func(b *testing.B) {
			s := theirs(vals)
			var size int
			for b.Loop() {
				data, err := s.MarshalBinary()
				if err != nil {
					b.Fatal(err)
				}
				if err := hyperloglog.New14().UnmarshalBinary(data); err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size), "bytes")
		})
	}
}

// TestAccuracy measures the relative error of both sketches at 1k, 100k
// and 1M distinct users, over 10 sets of users each (run with -v to see
// the figures). It fails only where an estimate is off by more than 4
// standard errors of its precision.
func TestAccuracy(t *testing.T) {
	const trials = 10
	for _, n := range []int{1000, 100000, 1000000} {
		var sumOurs, sumTheirs, maxOurs, maxTheirs float64
		for seed := range trials {
			vals := users(100+seed, n)
			eo := math.Abs(float64(ours(vals).Cardinality())-float64(n)) / float64(n)
			et := math.Abs(float64(theirs(vals).Estimate())-float64(n)) / float64(n)
			if eo > 4*hll.StandardError || et > 4*1.04/128 {
				t.Errorf("%d users, set %d: errors %.4f (hll) %.4f (axiomhq)", n, seed, eo, et)
			}
			sumOurs += eo * eo
			sumTheirs += et * et
			maxOurs, maxTheirs = max(maxOurs, eo), max(maxTheirs, et)
		}
		t.Logf("%7d users, %d sets: hll (p=12) rms error %.2f%% max %.2f%%; axiomhq (p=14) rms %.2f%% max %.2f%%",
			n, trials, 100*math.Sqrt(sumOurs/trials), 100*maxOurs, 100*math.Sqrt(sumTheirs/trials), 100*maxTheirs)
	}
}
