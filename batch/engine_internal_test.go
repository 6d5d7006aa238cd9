package batch

import "testing"

// Dedup is exact: two different event_ids that share a fingerprint (forced
// here; real 64-bit collisions are too rare to find) both count, the same
// event_id twice in one hour counts once, and in two hours twice.
func TestDedupIsExactOnFingerprintCollision(t *testing.T) {
	st := &runState{types: newInterner(), sources: newInterner()}
	typ, src := st.types.id("click"), st.sources.id("web")
	const fp = 0xdeadbeefcafef00d
	mk := func(ids []string, wins []int32) *block {
		b := &block{idEnd: []uint32{}}
		for i, id := range ids {
			b.add(fp, uint64(i+1), 1, wins[i], typ, src)
			b.idArena = append(b.idArena, id...)
			b.idEnd = append(b.idEnd, uint32(len(b.idArena)))
		}
		return b
	}
	blocks := []*block{
		mk([]string{"a", "b"}, []int32{100, 100}),
		mk([]string{"a", "b", "c", "a"}, []int32{100, 100, 100, 101}),
	}
	table, dups, err := aggregateBlocks(blocks, 2, st)
	if err != nil {
		t.Fatal(err)
	}
	if dups != 2 {
		t.Errorf("duplicates %d, want 2 (a and b again in hour 100)", dups)
	}
	got := map[int32]int64{}
	for k, a := range table {
		got[hourWindow(k.WindowStart.UnixMilli())] += a.Events
	}
	if got[100] != 3 || got[101] != 1 {
		t.Errorf("events per hour %v, want 3 in hour 100 (a, b, c) and 1 in hour 101", got)
	}
}
