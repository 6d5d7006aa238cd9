package streaming

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"time"
)

// MemStream is an in-process stream with Kinesis semantics: shards own
// ranges of the 128-bit hash space, a record goes to the shard owning the
// MD5 of its partition key (or its explicit hash key), sequence numbers grow
// within a shard, and splitting a shard closes it and opens two children.
// It implements Sink and Source, so the demo and tests run the producer,
// the Firehose runner and the speed layer without a server. Records are
// kept until the stream is dropped.
type MemStream struct {
	// Now stamps arrival times; nil means time.Now.
	Now func() time.Time

	mu     sync.Mutex
	shards []*memShard
	next   uint64 // last sequence number handed out
}

type memShard struct {
	id         string
	parents    []string
	start, end u128 // inclusive
	closed     bool
	records    []StreamRecord
}

// u128 is an unsigned 128-bit integer.
type u128 struct{ hi, lo uint64 }

func (a u128) less(b u128) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

func (a u128) String() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], a.hi)
	binary.BigEndian.PutUint64(b[8:], a.lo)
	return new(big.Int).SetBytes(b[:]).String()
}

func parseU128(s string) (u128, bool) {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok || n.Sign() < 0 || n.BitLen() > 128 {
		return u128{}, false
	}
	var b [16]byte
	n.FillBytes(b[:])
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}, true
}

// HashKey is the position of a partition key in the 128-bit hash space,
// as Kinesis computes it (MD5, big-endian).
func HashKey(partitionKey string) u128 {
	s := md5.Sum([]byte(partitionKey))
	return u128{binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:])}
}

// NewMemStream returns a stream with n shards that split the hash space
// evenly, named like Kinesis shards (shardId-000000000000, …).
func NewMemStream(n int) *MemStream {
	if n < 1 {
		n = 1
	}
	m := &MemStream{}
	// Boundaries at i * 2^128 / n.
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	bound := func(i int) u128 {
		v := new(big.Int).Mul(space, big.NewInt(int64(i)))
		v.Div(v, big.NewInt(int64(n)))
		if v.BitLen() > 128 {
			return u128{^uint64(0), ^uint64(0)}
		}
		var b [16]byte
		v.FillBytes(b[:])
		return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
	}
	for i := range n {
		end := bound(i + 1)
		if i == n-1 {
			end = u128{^uint64(0), ^uint64(0)}
		} else {
			end = sub1(end)
		}
		m.shards = append(m.shards, &memShard{id: shardName(i), start: bound(i), end: end})
	}
	return m
}

func shardName(i int) string { return fmt.Sprintf("shardId-%012d", i) }

func sub1(a u128) u128 {
	if a.lo == 0 {
		return u128{a.hi - 1, ^uint64(0)}
	}
	return u128{a.hi, a.lo - 1}
}

func (m *MemStream) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// PutRecords implements Sink. It never throttles.
func (m *MemStream) PutRecords(ctx context.Context, records []Record) ([]PutResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]PutResult, len(records))
	for i, r := range records {
		h := HashKey(r.PartitionKey)
		if r.ExplicitHashKey != "" {
			var ok bool
			if h, ok = parseU128(r.ExplicitHashKey); !ok {
				out[i] = PutResult{ErrorCode: "InvalidArgumentException", ErrorMessage: "explicit hash key is not a 128-bit decimal"}
				continue
			}
		}
		sh := m.owner(h)
		if sh == nil {
			out[i] = PutResult{ErrorCode: "InternalFailure", ErrorMessage: "no open shard owns the hash key"}
			continue
		}
		m.next++
		seq := fmt.Sprintf("%021d", m.next)
		data := append([]byte(nil), r.Data...)
		sh.records = append(sh.records, StreamRecord{ShardID: sh.id, SequenceNumber: seq, PartitionKey: r.PartitionKey, Data: data, ArrivalTime: now})
		out[i] = PutResult{ShardID: sh.id, SequenceNumber: seq}
	}
	return out, nil
}

func (m *MemStream) owner(h u128) *memShard {
	for _, s := range m.shards {
		if !s.closed && !h.less(s.start) && !s.end.less(h) {
			return s
		}
	}
	return nil // unreachable while Split keeps the open shards covering the space
}

// Shards implements Source.
func (m *MemStream) Shards(ctx context.Context) ([]Shard, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Shard, len(m.shards))
	for i, s := range m.shards {
		out[i] = Shard{ID: s.id, Parents: append([]string(nil), s.parents...), HashStart: s.start.String(), HashEnd: s.end.String()}
	}
	return out, nil
}

// ReadShard implements Source. Sequence numbers are fixed-width decimals,
// so they compare as strings.
func (m *MemStream) ReadShard(ctx context.Context, shard, after string, limit int) (ShardBatch, error) {
	if err := ctx.Err(); err != nil {
		return ShardBatch{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var sh *memShard
	for _, s := range m.shards {
		if s.id == shard {
			sh = s
		}
	}
	if sh == nil {
		return ShardBatch{}, fmt.Errorf("reading shard %s: no such shard", shard)
	}
	i := sort.Search(len(sh.records), func(i int) bool { return sh.records[i].SequenceNumber > after })
	j := len(sh.records)
	if limit > 0 && j-i > limit {
		j = i + limit
	}
	recs := append([]StreamRecord(nil), sh.records[i:j]...)
	return ShardBatch{Records: recs, Closed: sh.closed && j == len(sh.records)}, nil
}

// Split closes an open shard and opens two children that halve its hash
// range, as Kinesis SplitShard does.
func (m *MemStream) Split(shard string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.shards {
		if s.id != shard {
			continue
		}
		if s.closed {
			return fmt.Errorf("splitting shard %s: already closed", shard)
		}
		lo, _ := new(big.Int).SetString(s.start.String(), 10)
		hi, _ := new(big.Int).SetString(s.end.String(), 10)
		mid, _ := parseU128(new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1).String())
		s.closed = true
		n := len(m.shards)
		m.shards = append(m.shards,
			&memShard{id: shardName(n), parents: []string{s.id}, start: s.start, end: mid},
			&memShard{id: shardName(n + 1), parents: []string{s.id}, start: u128{mid.hi, mid.lo + 1}, end: s.end})
		if mid.lo == ^uint64(0) {
			m.shards[n+1].start = u128{mid.hi + 1, 0}
		}
		return nil
	}
	return fmt.Errorf("splitting shard %s: no such shard", shard)
}
