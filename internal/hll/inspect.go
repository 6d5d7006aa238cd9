package hll

// Info describes a serialized sketch, for people debugging one.
type Info struct {
	Format      string // SPARSE_V2, DENSE_V2 or DENSE_V1
	P           int
	Bytes       int
	Entries     int // sparse entries (distinct 26-bit hash prefixes); 0 when dense
	Baseline    int // dense: the smallest register
	Overflows   int // dense: registers 16 or more above the baseline
	Zeros       int // registers at 0 (sparse: once turned dense)
	MaxRegister int
	Cardinality int64
}

// Inspect decodes b (as Decode, with its errors) and describes it.
func Inspect(b []byte) (Info, error) {
	s, err := Decode(b)
	if err != nil {
		return Info{}, err
	}
	info := Info{Format: map[byte]string{tagSparseV2: "SPARSE_V2", tagDenseV2: "DENSE_V2", tagDenseV1: "DENSE_V1"}[b[0]],
		P: P, Bytes: len(b), Entries: s.Entries(), Cardinality: s.Cardinality()}
	regs := s.Registers()
	info.Baseline = int(regs[0])
	for _, v := range regs {
		info.Baseline = min(info.Baseline, int(v))
		info.MaxRegister = max(info.MaxRegister, int(v))
		if v == 0 {
			info.Zeros++
		}
	}
	if !s.Sparse() {
		for _, v := range regs {
			if int(v)-info.Baseline > maxDelta {
				info.Overflows++
			}
		}
	} else {
		info.Baseline = 0
	}
	return info, nil
}
