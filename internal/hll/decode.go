package hll

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// Decode reads a serialized sketch: SPARSE_V2, DENSE_V2 or the older
// DENSE_V1, at p = 12. It accepts exactly what Airlift writes and says
// what is wrong with anything else.
func Decode(b []byte) (*Sketch, error) {
	s := &Sketch{}
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return s, nil
}

// UnmarshalBinary sets s to the sketch in b, read as Decode reads it, and
// reuses the storage s already holds (its registers when dense, its entries
// when sparse): decoding many sketches into one s allocates nothing once it
// has the form they have. On an error s is left empty.
func (s *Sketch) UnmarshalBinary(b []byte) error {
	if err := s.unmarshal(b); err != nil {
		*s = Sketch{capacity: 1}
		return err
	}
	return nil
}

func (s *Sketch) unmarshal(b []byte) error {
	if len(b) == 0 {
		return errors.New("decoding a sketch: no bytes (an empty sketch is 020c0000)")
	}
	if len(b) >= 2 && (b[0] == 1 || b[0] == 2) && b[1] == 14 {
		return ErrOldFormat
	}
	if len(b) < 2 {
		return fmt.Errorf("decoding a sketch: %d byte, want at least %d", len(b), sparseHeader)
	}
	switch b[0] {
	case tagSparseV2, tagDenseV2, tagDenseV1:
	case 0:
		return errors.New("decoding a sketch: format tag 0 (SPARSE_V1) is not read; want 2 (SPARSE_V2), 3 (DENSE_V2) or 1 (DENSE_V1)")
	default:
		return fmt.Errorf("decoding a sketch: unknown format tag %d; want 2 (SPARSE_V2), 3 (DENSE_V2) or 1 (DENSE_V1)", b[0])
	}
	if b[1] != P {
		return fmt.Errorf("decoding a sketch: precision %d (%d buckets); only p = %d (Athena's approx_set, %d buckets) merges here",
			b[1], 1<<min(b[1], 30), P, Buckets)
	}
	var err error
	switch b[0] {
	case tagSparseV2:
		err = s.decodeSparse(b)
	case tagDenseV2:
		err = s.decodeDenseV2(b)
	default:
		err = s.decodeDenseV1(b)
	}
	if err != nil {
		return fmt.Errorf("decoding a sketch: %w", err)
	}
	return nil
}

func (s *Sketch) decodeSparse(b []byte) error {
	if len(b) < sparseHeader {
		return fmt.Errorf("sparse sketch of %d bytes: shorter than its %d-byte header", len(b), sparseHeader)
	}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	if want := sparseHeader + 4*n; len(b) != want {
		return fmt.Errorf("sparse sketch of %d entries has %d bytes, want %d", n, len(b), want)
	}
	if n > maxSparseEntries {
		return fmt.Errorf("sparse sketch of %d entries: a p = %d sketch turns dense past %d", n, P, maxSparseEntries)
	}
	entries := slices.Grow(s.entries[:0], n)[:n]
	for i := range entries {
		e := binary.LittleEndian.Uint32(b[sparseHeader+4*i:])
		if v := e & valueMask; v > maxSparseValue {
			return fmt.Errorf("sparse entry %d (%08x) holds %d leading zeros; at most %d are possible", i, e, v, maxSparseValue)
		}
		if i > 0 && e>>valueBits <= entries[i-1]>>valueBits {
			what := "out of order"
			if e>>valueBits == entries[i-1]>>valueBits {
				what = "repeated"
			}
			return fmt.Errorf("sparse entry %d (%08x): prefix %d is %s after %d (entries are sorted, one per prefix)",
				i, e, e>>valueBits, what, entries[i-1]>>valueBits)
		}
		entries[i] = e
	}
	*s = Sketch{entries: entries, capacity: addedCapacity(n)}
	return nil
}

// readDeltas sets the registers of s (made dense, its array reused) to
// baseline plus each 4-bit delta (the even bucket in the high nibble) and
// reports whether any delta is zero: the registers are then at least the
// baseline and the baseline one of them.
func (s *Sketch) readDeltas(b []byte) (*[Buckets]uint8, bool, error) {
	baseline := b[2]
	if baseline > maxRegister {
		return nil, false, fmt.Errorf("dense baseline %d: a register holds at most %d", baseline, maxRegister)
	}
	regs := s.regs
	if regs == nil {
		regs = new([Buckets]uint8)
	}
	*s = Sketch{regs: regs}
	base := uint16(baseline) * 0x0101 // no carry: 15 + maxRegister < 256
	var zero uint8
	for i, d := range b[3 : 3+Buckets/2] {
		binary.LittleEndian.PutUint16(regs[2*i:], deltaPairs[d]+base)
		zero |= zeroDelta[d]
	}
	return regs, zero != 0, nil
}

// deltaPairs holds the two register deltas of a delta byte, as the
// little-endian pair of bytes (even bucket first) they set; zeroDelta is
// 1 where either delta is zero.
var deltaPairs, zeroDelta = func() (p [256]uint16, z [256]uint8) {
	for d := range 256 {
		p[d] = uint16(d>>4) | uint16(d&0x0f)<<8
		if d>>4 == 0 || d&0x0f == 0 {
			z[d] = 1
		}
	}
	return p, z
}()

func (s *Sketch) decodeDenseV2(b []byte) error {
	if len(b) < denseV2Base {
		return fmt.Errorf("dense sketch of %d bytes: want at least %d", len(b), denseV2Base)
	}
	k := int(binary.LittleEndian.Uint16(b[denseV2Base-2:]))
	if want := denseV2Base + 3*k; len(b) != want {
		return fmt.Errorf("dense sketch with %d overflows has %d bytes, want %d", k, len(b), want)
	}
	regs, zero, err := s.readDeltas(b)
	if err != nil {
		return err
	}
	buckets := b[denseV2Base : denseV2Base+2*k]
	values := b[denseV2Base+2*k:]
	prev := -1
	for i := range k {
		bucket := int(binary.LittleEndian.Uint16(buckets[2*i:]))
		if bucket <= prev {
			return fmt.Errorf("overflow %d: bucket %d is not above the previous one's %d (overflows are sorted by bucket, one per bucket)", i, bucket, prev)
		}
		prev = bucket
		if err := addOverflow(regs, b[2], i, bucket, values[i]); err != nil {
			return err
		}
	}
	return checkDense(regs, b[2], zero)
}

// addOverflow adds the overflow value of entry i to its bucket's register.
func addOverflow(regs *[Buckets]uint8, baseline byte, i, bucket int, value byte) error {
	switch {
	case bucket >= Buckets:
		return fmt.Errorf("overflow %d: bucket %d is out of range (0..%d)", i, bucket, Buckets-1)
	case value == 0:
		return fmt.Errorf("overflow %d (bucket %d): value 0; an overflow is at least 1", i, bucket)
	case regs[bucket]-baseline != maxDelta:
		return fmt.Errorf("overflow %d: bucket %d has delta %d; only a delta of %d overflows", i, bucket, regs[bucket]-baseline, maxDelta)
	case int(regs[bucket])+int(value) > maxRegister:
		return fmt.Errorf("overflow %d: bucket %d would hold %d; a register holds at most %d", i, bucket, int(regs[bucket])+int(value), maxRegister)
	}
	regs[bucket] += value
	return nil
}

// checkDense checks what every dense form shares: registers that a hash
// can give and a baseline that is the smallest register. Every register is
// the baseline plus its delta (at most maxDelta) or, overflowed, checked
// by addOverflow: only a baseline above maxRegister-maxDelta needs the
// registers scanned, and zero (a delta of 0 was read) says the baseline is
// one of them.
func checkDense(regs *[Buckets]uint8, baseline byte, zero bool) error {
	if baseline > maxRegister-maxDelta {
		for i, v := range regs {
			if v > maxRegister {
				return fmt.Errorf("dense register %d holds %d; a register holds at most %d", i, v, maxRegister)
			}
		}
	}
	if !zero {
		return fmt.Errorf("dense baseline %d is not the smallest register (%d)", baseline, slices.Min(regs[:]))
	}
	return nil
}

func (s *Sketch) decodeDenseV1(b []byte) error {
	if len(b) != denseV1Len {
		return fmt.Errorf("DENSE_V1 sketch of %d bytes, want %d", len(b), denseV1Len)
	}
	regs, zero, err := s.readDeltas(b)
	if err != nil {
		return err
	}
	// One overflow slot: an int16 bucket and an int8 value, unused when
	// the bucket is negative or the value not positive.
	bucket := int(int16(binary.LittleEndian.Uint16(b[3+Buckets/2:])))
	if value := int8(b[denseV1Len-1]); bucket >= 0 && value > 0 {
		if err := addOverflow(regs, b[2], 0, bucket, byte(value)); err != nil {
			return err
		}
	}
	return checkDense(regs, b[2], zero)
}
