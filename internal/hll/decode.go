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
	if len(b) == 0 {
		return nil, errors.New("decoding a sketch: no bytes (an empty sketch is 020c0000)")
	}
	if len(b) >= 2 && (b[0] == 1 || b[0] == 2) && b[1] == 14 {
		return nil, ErrOldFormat
	}
	if len(b) < 2 {
		return nil, fmt.Errorf("decoding a sketch: %d byte, want at least %d", len(b), sparseHeader)
	}
	switch b[0] {
	case tagSparseV2, tagDenseV2, tagDenseV1:
	case 0:
		return nil, errors.New("decoding a sketch: format tag 0 (SPARSE_V1) is not read; want 2 (SPARSE_V2), 3 (DENSE_V2) or 1 (DENSE_V1)")
	default:
		return nil, fmt.Errorf("decoding a sketch: unknown format tag %d; want 2 (SPARSE_V2), 3 (DENSE_V2) or 1 (DENSE_V1)", b[0])
	}
	if b[1] != P {
		return nil, fmt.Errorf("decoding a sketch: precision %d (%d buckets); only p = %d (Athena's approx_set, %d buckets) merges here",
			b[1], 1<<min(b[1], 30), P, Buckets)
	}
	var s *Sketch
	var err error
	switch b[0] {
	case tagSparseV2:
		s, err = decodeSparse(b)
	case tagDenseV2:
		s, err = decodeDenseV2(b)
	default:
		s, err = decodeDenseV1(b)
	}
	if err != nil {
		return nil, fmt.Errorf("decoding a sketch: %w", err)
	}
	return s, nil
}

func decodeSparse(b []byte) (*Sketch, error) {
	if len(b) < sparseHeader {
		return nil, fmt.Errorf("sparse sketch of %d bytes: shorter than its %d-byte header", len(b), sparseHeader)
	}
	n := int(binary.LittleEndian.Uint16(b[2:]))
	if want := sparseHeader + 4*n; len(b) != want {
		return nil, fmt.Errorf("sparse sketch of %d entries has %d bytes, want %d", n, len(b), want)
	}
	if n > maxSparseEntries {
		return nil, fmt.Errorf("sparse sketch of %d entries: a p = %d sketch turns dense past %d", n, P, maxSparseEntries)
	}
	entries := make([]uint32, n)
	for i := range entries {
		e := binary.LittleEndian.Uint32(b[sparseHeader+4*i:])
		if v := e & valueMask; v > maxSparseValue {
			return nil, fmt.Errorf("sparse entry %d (%08x) holds %d leading zeros; at most %d are possible", i, e, v, maxSparseValue)
		}
		if i > 0 && e>>valueBits <= entries[i-1]>>valueBits {
			what := "out of order"
			if e>>valueBits == entries[i-1]>>valueBits {
				what = "repeated"
			}
			return nil, fmt.Errorf("sparse entry %d (%08x): prefix %d is %s after %d (entries are sorted, one per prefix)",
				i, e, e>>valueBits, what, entries[i-1]>>valueBits)
		}
		entries[i] = e
	}
	return &Sketch{entries: entries, capacity: addedCapacity(n)}, nil
}

// readDeltas sets the registers to baseline plus each 4-bit delta (the
// even bucket in the high nibble).
func readDeltas(b []byte) (*[Buckets]uint8, error) {
	baseline := b[2]
	if baseline > maxRegister {
		return nil, fmt.Errorf("dense baseline %d: a register holds at most %d", baseline, maxRegister)
	}
	regs := new([Buckets]uint8)
	for i, d := range b[3 : 3+Buckets/2] {
		regs[2*i] = baseline + d>>4
		regs[2*i+1] = baseline + d&0x0f
	}
	return regs, nil
}

func decodeDenseV2(b []byte) (*Sketch, error) {
	if len(b) < denseV2Base {
		return nil, fmt.Errorf("dense sketch of %d bytes: want at least %d", len(b), denseV2Base)
	}
	k := int(binary.LittleEndian.Uint16(b[denseV2Base-2:]))
	if want := denseV2Base + 3*k; len(b) != want {
		return nil, fmt.Errorf("dense sketch with %d overflows has %d bytes, want %d", k, len(b), want)
	}
	regs, err := readDeltas(b)
	if err != nil {
		return nil, err
	}
	buckets := b[denseV2Base : denseV2Base+2*k]
	values := b[denseV2Base+2*k:]
	prev := -1
	for i := range k {
		bucket := int(binary.LittleEndian.Uint16(buckets[2*i:]))
		if bucket <= prev {
			return nil, fmt.Errorf("overflow %d: bucket %d is not above the previous one's %d (overflows are sorted by bucket, one per bucket)", i, bucket, prev)
		}
		prev = bucket
		if err := addOverflow(regs, b[2], i, bucket, values[i]); err != nil {
			return nil, err
		}
	}
	return checkDense(regs, b[2])
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
// can give and a baseline that is the smallest register.
func checkDense(regs *[Buckets]uint8, baseline byte) (*Sketch, error) {
	for i, v := range regs {
		if v > maxRegister {
			return nil, fmt.Errorf("dense register %d holds %d; a register holds at most %d", i, v, maxRegister)
		}
	}
	if m := slices.Min(regs[:]); m != baseline {
		return nil, fmt.Errorf("dense baseline %d is not the smallest register (%d)", baseline, m)
	}
	return &Sketch{regs: regs}, nil
}

func decodeDenseV1(b []byte) (*Sketch, error) {
	if len(b) != denseV1Len {
		return nil, fmt.Errorf("DENSE_V1 sketch of %d bytes, want %d", len(b), denseV1Len)
	}
	regs, err := readDeltas(b)
	if err != nil {
		return nil, err
	}
	// One overflow slot: an int16 bucket and an int8 value, unused when
	// the bucket is negative or the value not positive.
	bucket := int(int16(binary.LittleEndian.Uint16(b[3+Buckets/2:])))
	if value := int8(b[denseV1Len-1]); bucket >= 0 && value > 0 {
		if err := addOverflow(regs, b[2], 0, bucket, byte(value)); err != nil {
			return nil, err
		}
	}
	return checkDense(regs, b[2])
}
