package hll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/twmb/murmur3"
)

const (
	// P is the precision: the number of hash bits that pick a bucket.
	P = 12
	// Buckets is the number of dense registers, 2^P.
	Buckets = 1 << P
	// StandardError is the relative standard error of a dense estimate,
	// 1.04/sqrt(Buckets): about 1.6%. Sparse sketches (up to 511
	// distinct 26-bit prefixes) are almost exact.
	StandardError = 1.04 / 64
	// Tolerance is the relative error within which an estimate agrees
	// with the exact count: 3 standard errors, 4.875%. A dense estimate
	// falls outside it about once in 370 counts.
	Tolerance = 3 * StandardError

	// sparseBits is the hash prefix a sparse entry keeps; the other six
	// bits of its 32 hold the leading zeros after the prefix.
	sparseBits = 26
	valueBits  = 32 - sparseBits
	valueMask  = 1<<valueBits - 1
	// maxSparseValue is the most leading zeros a sparse entry can hold:
	// the hash bits after the prefix with a 1 placed after them.
	maxSparseValue = 64 - sparseBits
	// maxRegister is the largest dense register: leading zeros of the 52
	// bits after the bucket index (with a 1 placed after them), plus one.
	maxRegister = 64 - P + 1

	// maxDelta is the largest register-minus-baseline a 4-bit delta holds;
	// larger ones keep the rest in an overflow entry.
	maxDelta = 15

	tagDenseV1  = 1
	tagSparseV2 = 2
	tagDenseV2  = 3

	sparseHeader = 4                 // tag, p, uint16 entry count
	denseV2Base  = 3 + Buckets/2 + 2 // tag, p, baseline, deltas, uint16 overflow count
	denseV1Len   = 3 + Buckets/2 + 3 // tag, p, baseline, deltas, int16 bucket, int8 overflow

	// maxSparseEntries is the sparse size past which Airlift turns a
	// sketch dense: it compares the JVM sizes of the two forms (24-byte
	// object and a 16-byte-header int array of capacity c, against a
	// 40-byte object and a 2064-byte delta array), and 24+16+4c > 2104
	// exactly when c > 516. Adding one value at a time grows the array
	// by 10 slots (1, 11, …, 511, 521), so added sketches turn dense at
	// their 512th entry (addedDenseAt); a merge of sparse sketches sizes
	// its array to its entries, so it stays sparse up to 516.
	maxSparseEntries = 516
	capacityGrowth   = 10
	addedDenseAt     = 512
)

// addedCapacity is the array capacity Airlift's sparse form has after n
// entries were added one by one to a new sketch.
func addedCapacity(n int) int {
	if n <= 1 {
		return 1
	}
	return 1 + capacityGrowth*((n-1+capacityGrowth-1)/capacityGrowth)
}

// ErrOldFormat is the error Decode returns for a sketch in the format the
// views used before (axiomhq's HyperLogLog at precision 14), which Athena
// cannot read.
var ErrOldFormat = errors.New("users_sketch is in the old axiomhq format (precision 14), which Athena cannot read: " +
	"rebuild the views with `lambdastack batch --rebuild` (every hour from raw; the next merge rewrites its days)")

// Sketch is a HyperLogLog sketch at p = 12. The zero value is not ready:
// use New or Decode.
type Sketch struct {
	// entries are the sparse entries, sorted by prefix, one per prefix:
	// prefix<<6 | leading zeros after it. Unused once dense.
	entries []uint32
	// capacity is the length Airlift's sparse array would have had the
	// entries been added one by one to a new sketch; it decides when an
	// added value turns the sketch dense. (Airlift sizes a decoded or
	// merged sketch's array to its entries, but Trino never adds values
	// to one, so taking the added size instead changes no SQL result
	// and lets a sketch that values are added to after a Union or a
	// Decode stay the sketch of its values.)
	capacity int
	// regs are the dense registers; nil while sparse.
	regs *[Buckets]uint8
}

// New returns an empty sketch: sparse, no entries.
func New() *Sketch { return &Sketch{capacity: 1} }

// Hash is the hash a value is added by: the first 64-bit word of
// MurmurHash3 x64 128 with seed 0.
func Hash(b []byte) uint64 {
	h1, _ := murmur3.Sum128(b)
	return h1
}

// HashString is Hash of the bytes of s (its UTF-8 for text).
func HashString(s string) uint64 {
	h1, _ := murmur3.StringSum128(s)
	return h1
}

// Add adds a value.
func (s *Sketch) Add(b []byte) { s.AddHash(Hash(b)) }

// AddString adds a value given as a string (Trino hashes a varchar's UTF-8).
func (s *Sketch) AddString(v string) { s.AddHash(HashString(v)) }

// AddHash adds a value by its Hash.
func (s *Sketch) AddHash(h uint64) {
	if s.regs != nil {
		bucket := h >> (64 - P)
		if v := uint8(bits.LeadingZeros64(h<<P|1<<(P-1)) + 1); v > s.regs[bucket] {
			s.regs[bucket] = v
		}
		return
	}
	prefix := uint32(h >> (64 - sparseBits))
	entry := prefix<<valueBits | uint32(bits.LeadingZeros64(h<<sparseBits|1<<(sparseBits-1)))
	i, found := searchPrefix(s.entries, prefix)
	switch {
	case !found:
		if len(s.entries)+1 > s.capacity {
			s.capacity += capacityGrowth
		}
		s.entries = slices.Insert(s.entries, i, entry)
	case entry > s.entries[i]:
		s.entries[i] = entry
	}
	if s.capacity > maxSparseEntries {
		s.toDense()
	}
}

// searchPrefix finds the entry with prefix in the sorted entries, or where
// it would go.
func searchPrefix(entries []uint32, prefix uint32) (int, bool) {
	lo, hi := 0, len(entries)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if entries[mid]>>valueBits < prefix {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < len(entries) && entries[lo]>>valueBits == prefix
}

// register is the dense bucket and register value of a sparse entry, as
// Airlift converts it: the leading zeros of the 14 prefix bits after the
// bucket index, and where those are all zero, 14 plus the entry's value.
// (Where the value is 32 or more its top bit counts as a prefix bit, so
// the zeros stay 14: Airlift does this too, and the bytes must agree.)
func register(entry uint32) (bucket int, value uint8) {
	zeros := bits.LeadingZeros32(entry << P)
	if rest := sparseBits - P; zeros > rest {
		zeros = rest + int(entry&valueMask)
	}
	return int(entry >> (32 - P)), uint8(zeros + 1)
}

func (s *Sketch) toDense() {
	s.regs = new([Buckets]uint8)
	s.addEntries(s.entries)
	s.entries, s.capacity = nil, 0
}

// addEntries sets the dense registers to at least those of the entries.
func (s *Sketch) addEntries(entries []uint32) {
	for _, e := range entries {
		if b, v := register(e); v > s.regs[b] {
			s.regs[b] = v
		}
	}
}

// Merge adds the values of o into s as Trino's merge() does: register-wise
// maximum, or a union by prefix (the larger value) while both are sparse,
// which stays sparse up to 516 entries. o is not changed.
func (s *Sketch) Merge(o *Sketch) error {
	if o == nil {
		return errors.New("merging sketches: the other sketch is nil")
	}
	if s.regs == nil && o.regs == nil {
		s.entries = unionEntries(s.entries, o.entries)
		s.capacity = addedCapacity(len(s.entries))
		if len(s.entries) > maxSparseEntries {
			s.toDense()
		}
		return nil
	}
	if s.regs == nil {
		s.toDense()
	}
	if o.regs == nil {
		s.addEntries(o.entries)
		return nil
	}
	maxRegisters(s.regs, o.regs)
	return nil
}

// maxRegisters sets each register of dst to the larger of it and src's,
// eight at a time (geLanes). About 4× the byte loop.
func maxRegisters(dst, src *[Buckets]uint8) {
	for i := 0; i < Buckets; i += 8 {
		x := binary.LittleEndian.Uint64(dst[i:])
		y := binary.LittleEndian.Uint64(src[i:])
		keep := geLanes(x, y)
		binary.LittleEndian.PutUint64(dst[i:], x&keep|y&^keep)
	}
}

// minRegister is the smallest register, found eight at a time (geLanes).
func minRegister(regs *[Buckets]uint8) uint8 {
	m := binary.LittleEndian.Uint64(regs[:])
	for i := 8; i < Buckets; i += 8 {
		y := binary.LittleEndian.Uint64(regs[i:])
		keep := geLanes(m, y) // m ≥ y: take y
		m = y&keep | m&^keep
	}
	var lanes [8]uint8
	binary.LittleEndian.PutUint64(lanes[:], m)
	return slices.Min(lanes[:])
}

// geLanes compares the eight bytes of x and y, each below 0x80 (register
// values are at most maxRegister, 53): its byte is 0xff where x's is at
// least y's, else 0. (x | 0x80) − y leaves a byte's high bit set exactly
// where x ≥ y, with no borrow between bytes.
func geLanes(x, y uint64) uint64 {
	const high = 0x8080808080808080
	ge := ((x | high) - y) & high
	return (ge >> 7) * 0xff
}

// Union adds the values of o into s and leaves s in the form it would have
// had the values of both been added to a new sketch one by one: where Merge
// keeps 512 to 516 sparse entries, Union turns dense, as adding does. The
// views hold sketches in this form, so a row's sketch depends only on its
// users, not on how its events were split into batches.
func (s *Sketch) Union(o *Sketch) error {
	if err := s.Merge(o); err != nil {
		return err
	}
	if s.regs == nil && len(s.entries) >= addedDenseAt {
		s.toDense()
	}
	return nil
}

// unionEntries merges two sorted entry lists into a new one, keeping the
// larger value where both hold a prefix.
func unionEntries(a, b []uint32) []uint32 {
	out := make([]uint32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		pa, pb := a[i]>>valueBits, b[j]>>valueBits
		switch {
		case pa < pb:
			out = append(out, a[i])
			i++
		case pa > pb:
			out = append(out, b[j])
			j++
		default:
			out = append(out, max(a[i], b[j]))
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	out = append(out, b[j:]...)
	return slices.Clip(out)
}

// Clone returns a copy that shares nothing with s.
func (s *Sketch) Clone() *Sketch {
	c := &Sketch{entries: slices.Clone(s.entries), capacity: s.capacity}
	if s.regs != nil {
		r := *s.regs
		c.regs = &r
	}
	return c
}

// Sparse reports whether s is in the sparse form.
func (s *Sketch) Sparse() bool { return s.regs == nil }

// Cardinality is the distinct-count estimate, as Airlift (and so Athena's
// cardinality()) computes it: linear counting over 2^26 slots while
// sparse; when dense, linear counting while more than 40% of the registers
// are zero, else the HyperLogLog estimate less the interpolated bias.
func (s *Sketch) Cardinality() int64 {
	if s.regs == nil {
		const slots = 1 << sparseBits
		return javaRound(linearCounting(slots-len(s.entries), slots))
	}
	zeros := 0
	sum := 0.0
	for _, v := range s.regs {
		if v == 0 {
			zeros++
		}
		// The exact 2^-v of Airlift's sum, looked up (v ≤ maxRegister
		// < 64) instead of divided: the same terms in the same order.
		sum += inversePowers[v&63]
	}
	if float64(zeros) > 0.4*Buckets {
		return javaRound(linearCounting(zeros, Buckets))
	}
	alpha := 0.7213 / (1 + 1.079/Buckets)
	return javaRound(correctBias(alpha * Buckets * Buckets / sum))
}

// inversePowers holds 2^-v for every register value v.
var inversePowers = func() (t [64]float64) {
	for v := range t {
		t[v] = 1 / float64(uint64(1)<<v)
	}
	return t
}()

func linearCounting(zeros, total int) float64 {
	return float64(total) * math.Log(float64(total)/float64(zeros))
}

// correctBias subtracts the bias of a raw dense estimate inside the table's
// range, interpolated linearly between its two nearest points.
func correctBias(raw float64) float64 {
	n := len(biasRaw)
	if raw < biasRaw[0] || raw > biasRaw[n-1] {
		return raw
	}
	i, found := slices.BinarySearch(biasRaw[:], raw)
	if found {
		return raw - biasValue[i]
	}
	x0, y0 := biasRaw[i-1], biasValue[i-1]
	x1, y1 := biasRaw[i], biasValue[i]
	return raw - ((raw-x0)*(y1-y0)/(x1-x0) + y0)
}

// javaRound rounds half up, as Java's Math.round does.
func javaRound(x float64) int64 { return int64(math.Floor(x + 0.5)) }

// MarshalBinary is the Airlift serialized form: SPARSE_V2 or DENSE_V2.
func (s *Sketch) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// AppendBinary appends the serialized form to dst.
func (s *Sketch) AppendBinary(dst []byte) ([]byte, error) {
	if s.regs == nil {
		if len(s.entries) > math.MaxUint16 {
			return dst, fmt.Errorf("encoding a sparse sketch of %d entries: more than a uint16 counts", len(s.entries))
		}
		dst = slices.Grow(dst, sparseHeader+4*len(s.entries))
		dst = append(dst, tagSparseV2, P, byte(len(s.entries)), byte(len(s.entries)>>8))
		for _, e := range s.entries {
			dst = append(dst, byte(e), byte(e>>8), byte(e>>16), byte(e>>24))
		}
		return dst, nil
	}
	regs := s.regs
	baseline := minRegister(regs)
	// The deltas are written in place and the overflows counted on the
	// way; the overflow lists (rare: a register 16 above the smallest)
	// take two more passes only when there are any.
	start := len(dst)
	dst = slices.Grow(dst, denseV2Base)[:start+denseV2Base]
	deltas := dst[start+3 : start+3+Buckets/2]
	overflows := 0
	for i := range deltas {
		hi, lo := regs[2*i]-baseline, regs[2*i+1]-baseline
		if hi > maxDelta || lo > maxDelta {
			if hi > maxDelta {
				overflows, hi = overflows+1, maxDelta
			}
			if lo > maxDelta {
				overflows, lo = overflows+1, maxDelta
			}
		}
		deltas[i] = hi<<4 | lo
	}
	dst[start], dst[start+1], dst[start+2] = tagDenseV2, P, baseline
	dst[start+denseV2Base-2], dst[start+denseV2Base-1] = byte(overflows), byte(overflows>>8)
	if overflows == 0 {
		return dst, nil
	}
	dst = slices.Grow(dst, 3*overflows)
	for i, v := range regs {
		if v-baseline > maxDelta {
			dst = append(dst, byte(i), byte(i>>8))
		}
	}
	for _, v := range regs {
		if v-baseline > maxDelta {
			dst = append(dst, v-baseline-maxDelta)
		}
	}
	return dst, nil
}

// Entries is the number of sparse entries (distinct 26-bit prefixes), or 0
// when dense.
func (s *Sketch) Entries() int { return len(s.entries) }

// Registers are the dense registers of s: its own when dense, those its
// entries turn into when sparse.
func (s *Sketch) Registers() [Buckets]uint8 {
	if s.regs != nil {
		return *s.regs
	}
	d := Sketch{regs: new([Buckets]uint8)}
	d.addEntries(s.entries)
	return *d.regs
}
