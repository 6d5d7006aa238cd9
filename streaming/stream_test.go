package streaming

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"testing"
	"time"
)

func TestMemStreamHashesLikeKinesis(t *testing.T) {
	ctx := context.Background()
	m := NewMemStream(4)
	shards, _ := m.Shards(ctx)
	if len(shards) != 4 || shards[0].HashStart != "0" || shards[3].HashEnd != new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1)).String() {
		t.Fatalf("shards: %+v", shards)
	}
	keys := []string{"user-1", "user-2", "a", "4d1ad2b9-24f8-4b9d-a088-76e9947c317a"}
	for _, k := range keys {
		res, err := m.PutRecords(ctx, []Record{{PartitionKey: k, Data: []byte(k)}})
		if err != nil || res[0].ErrorCode != "" {
			t.Fatal(err, res)
		}
		// The owning shard is the one whose range holds MD5(key) as a
		// big-endian 128-bit number.
		h := HashKey(k).String()
		hb, _ := new(big.Int).SetString(h, 10)
		for _, s := range shards {
			lo, _ := new(big.Int).SetString(s.HashStart, 10)
			hi, _ := new(big.Int).SetString(s.HashEnd, 10)
			if hb.Cmp(lo) >= 0 && hb.Cmp(hi) <= 0 && s.ID != res[0].ShardID {
				t.Fatalf("key %q hash %s went to %s, range owner %s", k, h, res[0].ShardID, s.ID)
			}
		}
	}
	// MD5("a") = 0cc175b9c0f1b6a831c399e269772661, in the first quarter.
	if HashKey("a").hi != 0x0cc175b9c0f1b6a8 {
		t.Fatalf("HashKey(a) = %x", HashKey("a").hi)
	}
}

// TestReaderResumesAndFollowsSplit writes, reads part, splits a shard,
// writes more and resumes from the checkpoint: every record exactly once,
// and a parent's records before its children's.
func TestReaderResumesAndFollowsSplit(t *testing.T) {
	ctx := context.Background()
	m := NewMemStream(2)
	put := func(from, to int) {
		t.Helper()
		var recs []Record
		for i := from; i < to; i++ {
			recs = append(recs, Record{PartitionKey: fmt.Sprintf("user-%d", i%10), Data: []byte(fmt.Sprint(i))})
		}
		if _, err := m.PutRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 300)
	seen := map[string]int{}
	order := map[string][]string{} // partition key -> data in read order
	var cp Checkpoint
	r := &Reader{Source: m, Limit: 50}
	handle := func(_ context.Context, b Batch) error {
		for _, rec := range b.Records {
			seen[string(rec.Data)]++
			order[rec.PartitionKey] = append(order[rec.PartitionKey], string(rec.Data))
			if rec.ShardID != b.ShardID {
				t.Fatalf("record of %s in a batch of %s", rec.ShardID, b.ShardID)
			}
		}
		return nil
	}
	// Stop after the first batch: the checkpoint holds where we were.
	stop := fmt.Errorf("stop")
	n := 0
	err := r.CatchUp(ctx, &cp, func(ctx context.Context, b Batch) error {
		if n++; n > 1 {
			return stop
		}
		return handle(ctx, b)
	})
	if err != stop {
		t.Fatalf("CatchUp: %v", err)
	}
	if err := m.Split("shardId-000000000000"); err != nil {
		t.Fatal(err)
	}
	put(300, 600)
	if err := r.CatchUp(ctx, &cp, handle); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 600 {
		t.Fatalf("read %d distinct records, want 600", len(seen))
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("record %s read %d times", k, c)
		}
	}
	for k, vals := range order {
		ints := make([]int, len(vals))
		for i, v := range vals {
			fmt.Sscan(v, &ints[i])
		}
		if !sort.IntsAreSorted(ints) {
			t.Fatalf("key %s read out of order: %v", k, ints)
		}
	}
	if !cp.Shards["shardId-000000000000"].Done || len(cp.Shards) != 4 {
		t.Fatalf("checkpoint: %+v", cp)
	}
}

// behindSource reports being behind with empty pages a few times before it
// hands over its records, as Kinesis does on a throttled or empty read.
type behindSource struct {
	*MemStream
	empties int
}

func (b *behindSource) ReadShard(ctx context.Context, shard, after string, limit int) (ShardBatch, error) {
	if b.empties > 0 {
		b.empties--
		return ShardBatch{Behind: time.Second}, nil
	}
	return b.MemStream.ReadShard(ctx, shard, after, limit)
}

func TestCatchUpKeepsGoingWhileBehind(t *testing.T) {
	ctx := context.Background()
	m := NewMemStream(1)
	if _, err := m.PutRecords(ctx, []Record{{PartitionKey: "k", Data: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	r := &Reader{Source: &behindSource{MemStream: m, empties: 3}, Sleep: func(context.Context, time.Duration) error { return nil }}
	var cp Checkpoint
	n := 0
	if err := r.CatchUp(ctx, &cp, func(_ context.Context, b Batch) error { n += len(b.Records); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("read %d records, want 1: CatchUp stopped while the source was behind", n)
	}
}
