package hll_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/hll/hlltest"
)

// caseValues are the values of a vectors.tsv case: pub-N is 'pub-0' ..
// 'pub-(N-1)', uni-N is 'ключ-0-日本' .. 'ключ-(N-1)-日本'.
func caseValues(t *testing.T, name string) []string {
	t.Helper()
	kind, count, ok := strings.Cut(name, "-")
	n, err := strconv.Atoi(count)
	if !ok || err != nil {
		t.Fatalf("case %q: want KIND-N", name)
	}
	vals := make([]string, n)
	for i := range vals {
		switch kind {
		case "pub":
			vals[i] = fmt.Sprintf("pub-%d", i)
		case "uni":
			vals[i] = fmt.Sprintf("ключ-%d-日本", i)
		default:
			t.Fatalf("case %q: unknown kind", name)
		}
	}
	return vals
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marshal(t testing.TB, s *hll.Sketch) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestHash(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"hell", 0x629942693e10f867},
		{"", 0},
		{"hello", 0xcbd8a7b341bd9b02},
		{"The quick brown fox jumps over the lazy dog", 0xe34bbc7bbc071b6c},
	} {
		if got := hll.HashString(c.in); got != c.want {
			t.Errorf("HashString(%q) = %#x, want %#x", c.in, got, c.want)
		}
		if got := hll.Hash([]byte(c.in)); got != c.want {
			t.Errorf("Hash(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

func TestVectors(t *testing.T) {
	for _, row := range hlltest.TSV(t, "vectors.tsv") {
		name, wantHex, wantCard := row[0], row[1], row[2]
		t.Run(name, func(t *testing.T) {
			s := hll.New()
			for _, v := range caseValues(t, name) {
				s.AddString(v)
			}
			if got := hex.EncodeToString(marshal(t, s)); got != wantHex {
				t.Errorf("bytes differ:\n got %s\nwant %s", got, wantHex)
			}
			if got := strconv.FormatInt(s.Cardinality(), 10); got != wantCard {
				t.Errorf("cardinality %s, want %s", got, wantCard)
			}
			d, err := hll.Decode(mustHex(t, wantHex))
			if err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(marshal(t, d)); got != wantHex {
				t.Errorf("decoded and encoded again:\n got %s\nwant %s", got, wantHex)
			}
			if got := strconv.FormatInt(d.Cardinality(), 10); got != wantCard {
				t.Errorf("decoded cardinality %s, want %s", got, wantCard)
			}
		})
	}
}

func TestMerges(t *testing.T) {
	inputs := map[string][]string{}
	var order []string
	for _, row := range hlltest.TSV(t, "merges.tsv") {
		if _, ok := inputs[row[0]]; !ok {
			order = append(order, row[0])
		}
		inputs[row[0]] = append(inputs[row[0]], row[1])
	}
	want := map[string][]string{}
	for _, row := range hlltest.TSV(t, "merges-expected.tsv") {
		want[row[0]] = row[1:]
	}
	for _, group := range order {
		t.Run(group, func(t *testing.T) {
			w, ok := want[group]
			if !ok {
				t.Fatalf("no expected result for %s", group)
			}
			// As Trino's merge(): the first input is the state, the
			// others merge into it in order.
			var acc *hll.Sketch
			for i, h := range inputs[group] {
				s, err := hll.Decode(mustHex(t, h))
				if err != nil {
					t.Fatalf("input %d: %v", i, err)
				}
				if acc == nil {
					acc = s
					continue
				}
				if err := acc.Merge(s); err != nil {
					t.Fatal(err)
				}
			}
			if got := hex.EncodeToString(marshal(t, acc)); got != w[0] {
				t.Errorf("bytes differ:\n got %s\nwant %s", got, w[0])
			}
			if got := strconv.FormatInt(acc.Cardinality(), 10); got != w[1] {
				t.Errorf("cardinality %s, want %s", got, w[1])
			}
		})
	}
}

// TestSparseToDense: a sketch that values are added to turns dense at its
// 512th entry; one merged from sparse sketches stays sparse up to 516.
func TestSparseToDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := hll.New()
	for s.Entries() < 511 {
		s.AddHash(rng.Uint64())
	}
	if !s.Sparse() {
		t.Fatal("dense before 512 entries")
	}
	s.AddHash(rng.Uint64())
	if s.Sparse() {
		t.Fatal("still sparse at 512 entries")
	}

	for _, n := range []int{516, 517} {
		a, b := hll.New(), hll.New()
		for a.Entries()+b.Entries() < n {
			if a.Entries() < 300 {
				a.AddHash(rng.Uint64())
			} else {
				b.AddHash(rng.Uint64())
			}
		}
		if err := a.Merge(b); err != nil {
			t.Fatal(err)
		}
		if got, want := a.Sparse(), n <= 516; got != want {
			t.Errorf("merge of %d distinct prefixes: sparse %v, want %v", n, got, want)
		}
	}
}

// sizes cover empty, small sparse, the sparse-to-dense band and dense
// sketches with overflows.
var sizes = []int{0, 1, 7, 200, 505, 514, 600, 3000, 40000}

func randomSketch(rng *rand.Rand, pool []uint64) *hll.Sketch {
	n := sizes[rng.IntN(len(sizes))]
	s := hll.New()
	for range n {
		s.AddHash(pool[rng.IntN(len(pool))])
	}
	return s
}

func merged(t *testing.T, parts ...*hll.Sketch) []byte {
	t.Helper()
	acc := parts[0].Clone()
	for _, p := range parts[1:] {
		if err := acc.Merge(p); err != nil {
			t.Fatal(err)
		}
	}
	return marshal(t, acc)
}

// TestMergeProperties: merge is commutative, associative and idempotent on
// the serialized bytes, and merging leaves its argument unchanged.
func TestMergeProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	// Values drawn from a shared pool, so sketches overlap.
	pool := make([]uint64, 60000)
	for i := range pool {
		pool[i] = rng.Uint64()
	}
	for i := range 60 {
		a, b, c := randomSketch(rng, pool), randomSketch(rng, pool), randomSketch(rng, pool)
		bBefore := marshal(t, b)
		if ab, ba := merged(t, a, b), merged(t, b, a); !bytes.Equal(ab, ba) {
			t.Fatalf("trial %d: a+b != b+a", i)
		}
		if !bytes.Equal(marshal(t, b), bBefore) {
			t.Fatalf("trial %d: merging changed its argument", i)
		}
		bc := b.Clone()
		if err := bc.Merge(c); err != nil {
			t.Fatal(err)
		}
		if left, right := merged(t, a, b, c), merged(t, a, bc); !bytes.Equal(left, right) {
			t.Fatalf("trial %d: (a+b)+c != a+(b+c)", i)
		}
		if aa := merged(t, a, a); !bytes.Equal(aa, marshal(t, a)) {
			t.Fatalf("trial %d: a+a != a", i)
		}
	}
}

// TestUnionIsTheSketchOfTheValues: Union of the sketches of two sets, and
// adding values to a decoded sketch, give the sketch of all the values
// added to a new one; Merge does too, except where the union has 512 to
// 516 distinct prefixes: there Merge keeps the sparse form (as Trino's
// merge() does) with the same registers.
func TestUnionIsTheSketchOfTheValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	band := 0
	for i := range 300 {
		na, nb := rng.IntN(520), rng.IntN(520)
		if i%10 == 0 {
			na, nb = rng.IntN(20000), rng.IntN(20000)
		}
		a, b, u := hll.New(), hll.New(), hll.New()
		for range na {
			h := rng.Uint64()
			a.AddHash(h)
			u.AddHash(h)
		}
		var bh []uint64
		for range nb {
			h := rng.Uint64()
			b.AddHash(h)
			u.AddHash(h)
			bh = append(bh, h)
		}
		want := marshal(t, u)

		un := a.Clone()
		if err := un.Union(b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(marshal(t, un), want) {
			t.Fatalf("trial %d (%d+%d values): Union differs from the sketch of the union", i, na, nb)
		}

		d, err := hll.Decode(marshal(t, a))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range bh {
			d.AddHash(h)
		}
		if !bytes.Equal(marshal(t, d), want) {
			t.Fatalf("trial %d (%d+%d values): adding to a decoded sketch differs from the sketch of the union", i, na, nb)
		}

		if err := a.Merge(b); err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(marshal(t, a), want) {
			continue
		}
		band++
		if a.Registers() != u.Registers() || !a.Sparse() || a.Entries() < 512 || a.Entries() > 516 {
			t.Fatalf("trial %d (%d+%d values): Merge differs from the sketch of the union (sparse %v, %d entries)", i, na, nb, a.Sparse(), a.Entries())
		}
	}
	t.Logf("%d merges in the 512-516 band", band)
}

func TestAddAllocationFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	vals := make([]string, 1000)
	for i := range vals {
		vals[i] = fmt.Sprintf("user-%d-%d", i, rng.Uint64())
	}
	dense := hll.New()
	for _, v := range vals {
		dense.AddString(v)
	}
	if dense.Sparse() {
		t.Fatal("1000 values left the sketch sparse")
	}
	sparse := hll.New()
	for _, v := range vals[:100] {
		sparse.AddString(v)
	}
	i := 0
	for name, f := range map[string]func(){
		"dense AddString":  func() { dense.AddString(vals[i%len(vals)]) },
		"dense Add":        func() { dense.Add([]byte(vals[i%len(vals)])) },
		"dense AddHash":    func() { dense.AddHash(rng.Uint64()) },
		"sparse AddString": func() { sparse.AddString(vals[i%100]) },
		"HashString":       func() { _ = hll.HashString(vals[i%len(vals)]) },
	} {
		if n := testing.AllocsPerRun(2000, func() { f(); i++ }); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

func TestEmpty(t *testing.T) {
	s := hll.New()
	if got := hex.EncodeToString(marshal(t, s)); got != "020c0000" {
		t.Errorf("empty sketch %s, want 020c0000", got)
	}
	if s.Cardinality() != 0 {
		t.Errorf("empty cardinality %d", s.Cardinality())
	}
	d, err := hll.Decode(mustHex(t, "020c0000"))
	if err != nil {
		t.Fatal(err)
	}
	d.AddString("x")
	if d.Cardinality() != 1 {
		t.Errorf("cardinality %d after one value", d.Cardinality())
	}
	if err := d.Merge(nil); err == nil {
		t.Error("merging nil: no error")
	}
}

// dense is the hex of vectors.tsv's pub-4000 case, a DENSE_V2 sketch with
// no overflows.
func denseVector(t *testing.T) []byte {
	t.Helper()
	for _, row := range hlltest.TSV(t, "vectors.tsv") {
		if row[0] == "pub-4000" {
			return mustHex(t, row[1])
		}
	}
	t.Fatal("no pub-4000 case")
	return nil
}

func TestDecodeErrors(t *testing.T) {
	dense := denseVector(t)
	with := func(b []byte, f func([]byte) []byte) []byte { return f(bytes.Clone(b)) }
	// A dense sketch whose deltas allow one overflow at bucket 4: delta
	// 15 there (the high nibble of byte 2 of the deltas).
	overflowAt4 := func(v byte) []byte {
		return with(dense, func(b []byte) []byte {
			b[3+2] = 0xf0 | b[3+2]&0x0f
			b = b[:len(b)-2]
			return append(b, 1, 0, 4, 0, v)
		})
	}
	if _, err := hll.Decode(overflowAt4(1)); err != nil {
		t.Fatalf("a valid overflow: %v", err)
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "no bytes"},
		{"one byte", []byte{2}, "at least"},
		{"tag 0", []byte{0, 12, 0, 0}, "tag 0"},
		{"tag 9", []byte{9, 12, 0, 0}, "unknown format tag 9"},
		{"p 11", []byte{2, 11, 0, 0}, "precision 11"},
		{"axiomhq", []byte{2, 14, 0, 1, 0, 0, 0, 0}, "lambdastack batch --rebuild"},
		{"sparse short", []byte{2, 12, 1, 0, 1, 2}, "has 6 bytes, want 8"},
		{"sparse long", []byte{2, 12, 0, 0, 1}, "has 5 bytes, want 4"},
		{"sparse header cut", []byte{2, 12, 0}, "header"},
		{"sparse unsorted", []byte{2, 12, 2, 0, 0, 0x02, 0, 0, 0, 0x01, 0, 0}, "out of order"},
		{"sparse repeated", []byte{2, 12, 2, 0, 1, 0x02, 0, 0, 2, 0x02, 0, 0}, "repeated"},
		{"sparse value 39", []byte{2, 12, 1, 0, 39, 0x02, 0, 0}, "39 leading zeros"},
		{"sparse too many", append([]byte{2, 12, 0x05, 0x02}, make([]byte, 4*517)...), "turns dense past 516"},
		{"dense short", dense[:100], "want at least"},
		{"dense long", append(bytes.Clone(dense), 0), "want 2053"},
		{"dense overflow count", with(dense, func(b []byte) []byte { b[len(b)-2] = 1; return b }), "want 2056"},
		{"overflow zero", overflowAt4(0), "value 0"},
		{"overflow too big", overflowAt4(60), "at most 53"},
		{"overflow bucket out of range", with(dense, func(b []byte) []byte {
			return append(b[:len(b)-2], 1, 0, 0, 0x10, 1)
		}), "out of range"},
		{"overflow on small delta", with(dense, func(b []byte) []byte {
			b[3+2] = 0x10 | b[3+2]&0x0f
			return append(b[:len(b)-2], 1, 0, 4, 0, 1)
		}), "only a delta of 15"},
		{"overflows unsorted", with(dense, func(b []byte) []byte {
			b[3+2] = 0xf0 | b[3+2]&0x0f
			b[3+3] = 0xf0 | b[3+3]&0x0f
			return append(b[:len(b)-2], 2, 0, 6, 0, 4, 0, 1, 1)
		}), "not above"},
		{"baseline not smallest", with(dense, func(b []byte) []byte {
			for i := 3; i < 3+hll.Buckets/2; i++ {
				b[i] = max(b[i]>>4, 1)<<4 | max(b[i]&0x0f, 1)
			}
			return b
		}), "not the smallest"},
		{"baseline too big", with(dense, func(b []byte) []byte { b[2] = 200; return b }), "at most 53"},
		{"register too big", with(dense, func(b []byte) []byte { b[2] = 45; return b }), "dense register"},
		{"dense v1 length", append([]byte{1, 12}, make([]byte, 10)...), "DENSE_V1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := hll.Decode(c.in)
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

// TestUnmarshalBinaryReuses decodes sketches of every form, one after the
// other, into one Sketch: each gives what Decode gives (bytes and
// estimate), whatever the form before it, and an error leaves it empty.
func TestUnmarshalBinaryReuses(t *testing.T) {
	var inputs [][]byte
	for _, name := range []string{"vectors.tsv", "merges-expected.tsv"} {
		for _, row := range hlltest.TSV(t, name) {
			inputs = append(inputs, mustHex(t, row[1]))
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	rng.Shuffle(len(inputs), func(i, j int) { inputs[i], inputs[j] = inputs[j], inputs[i] })
	s := hll.New()
	prefix := []byte("kept")
	for i, in := range inputs {
		if i%5 == 4 { // an error between two good ones
			if err := s.UnmarshalBinary(in[:len(in)-1]); err == nil {
				t.Fatalf("input %d cut short: no error", i)
			}
			if got := marshal(t, s); !bytes.Equal(got, []byte{2, 12, 0, 0}) || s.Cardinality() != 0 {
				t.Fatalf("after an error: %x, estimate %d; want the empty sketch", got, s.Cardinality())
			}
		}
		if err := s.UnmarshalBinary(in); err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		d, err := hll.Decode(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.AppendBinary(bytes.Clone(prefix))
		if err != nil {
			t.Fatal(err)
		}
		if want := append(bytes.Clone(prefix), marshal(t, d)...); !bytes.Equal(got, want) {
			t.Fatalf("input %d (%x…): reused sketch encodes to\n%x\nwant\n%x", i, in[:4], got, want)
		}
		if s.Cardinality() != d.Cardinality() {
			t.Fatalf("input %d: estimate %d, want %d", i, s.Cardinality(), d.Cardinality())
		}
	}
}

func TestDecodeDenseV1(t *testing.T) {
	dense := denseVector(t)
	v1 := append([]byte{1}, dense[1:len(dense)-2]...)
	v1 = append(v1, 0xff, 0xff, 0) // no overflow
	s, err := hll.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(marshal(t, s), dense) {
		t.Error("DENSE_V1 without overflow does not encode as the same DENSE_V2")
	}
	v1[3+2] = 0xf0 | v1[3+2]&0x0f
	copy(v1[len(v1)-3:], []byte{4, 0, 2})
	s, err = hll.Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Registers()[4]; got != v1[2]+15+2 {
		t.Errorf("register 4 = %d, want baseline+17", got)
	}
}

func FuzzDecode(f *testing.F) {
	for _, row := range hlltest.TSV(f, "vectors.tsv") {
		f.Add(mustHex(f, row[1]))
	}
	for _, row := range hlltest.TSV(f, "merges-expected.tsv") {
		f.Add(mustHex(f, row[1]))
	}
	f.Add([]byte{2, 12, 1, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := hll.Decode(b)
		if err != nil {
			return
		}
		// What decodes is what Airlift writes: it encodes to the same
		// bytes (DENSE_V1 becomes DENSE_V2), and merges with itself to
		// the same sketch.
		out := marshal(t, s)
		if b[0] != 1 && !bytes.Equal(out, b) {
			t.Fatalf("decoded and encoded again:\n got %x\nwant %x", out, b)
		}
		if err := s.Merge(s.Clone()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(marshal(t, s), out) {
			t.Fatal("merging with itself changed the sketch")
		}
		if s.Cardinality() < 0 {
			t.Fatal("negative cardinality")
		}
	})
}

func TestInspect(t *testing.T) {
	for _, row := range hlltest.TSV(t, "vectors.tsv") {
		if row[0] != "pub-64" && row[0] != "pub-20000" {
			continue
		}
		info, err := hll.Inspect(mustHex(t, row[1]))
		if err != nil {
			t.Fatal(err)
		}
		if strconv.FormatInt(info.Cardinality, 10) != row[2] || info.Bytes != len(row[1])/2 || info.P != 12 {
			t.Errorf("%s: %+v", row[0], info)
		}
		if row[0] == "pub-64" && (info.Format != "SPARSE_V2" || info.Entries != 64 || info.Zeros < hll.Buckets-64) {
			t.Errorf("pub-64: %+v", info)
		}
		if row[0] == "pub-20000" && (info.Format != "DENSE_V2" || info.Entries != 0 || info.Zeros == 0 || info.Zeros > 100 || info.MaxRegister < 10) {
			t.Errorf("pub-20000: %+v", info)
		}
	}
	if _, err := hll.Inspect([]byte{9}); err == nil {
		t.Error("no error for a bad sketch")
	}
}
