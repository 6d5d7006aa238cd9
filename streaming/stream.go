package streaming

import (
	"context"
	"time"
)

// Record is one record to put on a stream.
type Record struct {
	// PartitionKey picks the shard (Kinesis: MD5 of the key into the
	// shard hash ranges) and keeps records with the same key in order.
	PartitionKey string
	// ExplicitHashKey, when set, overrides the hash of PartitionKey
	// (decimal 128-bit integer, as Kinesis takes it).
	ExplicitHashKey string
	Data            []byte
}

// PutResult is the outcome of one record of a PutRecords call.
type PutResult struct {
	ShardID        string
	SequenceNumber string
	// ErrorCode is "" on success. Throttled reports a throughput limit
	// (Kinesis ProvisionedThroughputExceededException): retry slower.
	ErrorCode    string
	ErrorMessage string
	Throttled    bool
}

// Sink writes records to one stream. It is the producing half of the
// stream seam.
type Sink interface {
	// PutRecords puts up to 500 records (5 MiB) and returns one result
	// per record, in order. A returned error means the call as a whole
	// failed and no record is known to be written.
	PutRecords(ctx context.Context, records []Record) ([]PutResult, error)
}

// Shard is one shard (Kinesis) or partition (Kafka) of a stream.
type Shard struct {
	ID string
	// Parents are the shards this one was split or merged from; a
	// reader finishes them before it reads this one, to keep key order.
	Parents []string
	// HashStart and HashEnd bound the partition-key hashes the shard
	// owns (decimal, inclusive); empty where the stream has no hash
	// ranges.
	HashStart, HashEnd string
}

// StreamRecord is one record read from a shard.
type StreamRecord struct {
	ShardID        string
	SequenceNumber string
	PartitionKey   string
	Data           []byte
	ArrivalTime    time.Time
}

// ShardBatch is what one read of a shard returns.
type ShardBatch struct {
	Records []StreamRecord
	// Closed reports that the shard is closed (resharded) and every
	// record in it has been returned.
	Closed bool
	// Behind is how far the read is behind the tip of the shard, where
	// the stream reports it (Kinesis MillisBehindLatest).
	Behind time.Duration
}

// Source reads the shards of one stream. It is the reading half of the
// stream seam. Positions are opaque strings: a sequence number for Kinesis,
// an offset for Kafka.
type Source interface {
	// Shards lists every shard, open and closed, with their parents.
	Shards(ctx context.Context) ([]Shard, error)
	// ReadShard returns up to limit records of shard that come after the
	// position after ("" = from the oldest record kept). An empty batch
	// that is not Closed means no new records for now.
	ReadShard(ctx context.Context, shard, after string, limit int) (ShardBatch, error)
}
