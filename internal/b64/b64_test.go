package b64

import (
	"bytes"
	"encoding/base64"
	"math/rand/v2"
	"testing"
)

// randomBytes draws n bytes from r.
func randomBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func TestAppendEncodeMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 300 {
		src := randomBytes(r, n)
		prefix := []byte("pre")
		got := AppendEncode(append([]byte(nil), prefix...), src)
		want := base64.StdEncoding.AppendEncode(append([]byte(nil), prefix...), src)
		if !bytes.Equal(got, want) {
			t.Fatalf("len %d:\n got %s\nwant %s", n, got, want)
		}
	}
}

func FuzzAppendEncode(f *testing.F) {
	f.Add([]byte("hello world"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := AppendEncode(nil, src), base64.StdEncoding.AppendEncode(nil, src); !bytes.Equal(got, want) {
			t.Fatalf("%x: got %s want %s", src, got, want)
		}
	})
}

func TestAppendDecodeMatchesStdlib(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := range 300 {
		src := randomBytes(r, n)
		enc := base64.StdEncoding.EncodeToString(src)
		got, ok := AppendDecode([]byte("pre"), []byte(enc))
		if !ok || string(got) != "pre"+string(src) {
			t.Fatalf("len %d: got %x ok=%v", n, got, ok)
		}
		// A bad character anywhere is refused.
		if n > 0 {
			bad := []byte(enc)
			bad[r.IntN(len(bad))] = '!'
			if _, ok := AppendDecode(nil, bad); ok {
				t.Fatalf("len %d: accepted %s", n, bad)
			}
		}
	}
}

func FuzzAppendDecode(f *testing.F) {
	f.Add([]byte("aGVsbG8gd29ybGQ="))
	f.Add([]byte("aGVsbG8gd29ybGQ"))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, ok := AppendDecode(nil, src)
		want, err := base64.StdEncoding.AppendDecode(nil, src)
		if ok != (err == nil) || (ok && !bytes.Equal(got, want)) {
			t.Fatalf("%q: got %x %v, want %x %v", src, got, ok, want, err)
		}
	})
}

// base64Bench is a 300-byte record, the size the transform benchmarks use.
var base64Bench = func() []byte {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}()

func BenchmarkAppendEncode(b *testing.B) {
	var out []byte
	for b.Loop() {
		out = AppendEncode(out[:0], base64Bench)
	}
}

func BenchmarkAppendDecode(b *testing.B) {
	enc := []byte(base64.StdEncoding.EncodeToString(base64Bench))
	var out []byte
	for b.Loop() {
		var ok bool
		if out, ok = AppendDecode(out[:0], enc); !ok {
			b.Fatal("rejected valid base64")
		}
	}
}
