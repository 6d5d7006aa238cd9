package speed

// fpSet is a set of event fingerprints: open addressing with linear
// probing. Fingerprints are uniform 64-bit hashes, so their low bits index
// the table directly; it is several times faster than a Go map for the one
// question the batch asks per event (seen before?).
type fpSet struct {
	slots   []uint64 // 0 marks an empty slot
	n       int
	hasZero bool // the fingerprint 0 is kept here, not in slots
}

func newFPSet(hint int) *fpSet {
	size := 16
	for size < 2*hint {
		size <<= 1
	}
	return &fpSet{slots: make([]uint64, size)}
}

// add inserts fp and reports whether it was new.
func (s *fpSet) add(fp uint64) bool {
	if fp == 0 {
		if s.hasZero {
			return false
		}
		s.hasZero = true
		return true
	}
	if 2*(s.n+1) > len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case fp:
			return false
		case 0:
			s.slots[i] = fp
			s.n++
			return true
		}
	}
}

func (s *fpSet) grow() {
	old := s.slots
	s.slots = make([]uint64, 2*len(old))
	s.n = 0
	mask := uint64(len(s.slots) - 1)
	for _, fp := range old {
		if fp == 0 {
			continue
		}
		i := fp & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = fp
		s.n++
	}
}
