package streaming

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/lambdastack/lambdastack/internal/wait"
)

// KinesisPutAPI is the Kinesis call a KinesisSink makes.
type KinesisPutAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// KinesisReadAPI is the Kinesis calls a KinesisSource makes.
type KinesisReadAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// KinesisSink puts records on a Kinesis data stream.
type KinesisSink struct {
	API    KinesisPutAPI
	Stream string
}

// PutRecords implements Sink.
func (k *KinesisSink) PutRecords(ctx context.Context, records []Record) ([]PutResult, error) {
	in := &kinesis.PutRecordsInput{StreamName: aws.String(k.Stream), Records: make([]types.PutRecordsRequestEntry, len(records))}
	for i, r := range records {
		e := types.PutRecordsRequestEntry{Data: r.Data, PartitionKey: aws.String(r.PartitionKey)}
		if r.ExplicitHashKey != "" {
			e.ExplicitHashKey = aws.String(r.ExplicitHashKey)
		}
		in.Records[i] = e
	}
	out, err := k.API.PutRecords(ctx, in)
	if err != nil {
		if permanent(err) {
			return nil, fmt.Errorf("putting %d records on Kinesis stream %s: %w: %w", len(records), k.Stream, ErrPermanent, err)
		}
		return nil, fmt.Errorf("putting %d records on Kinesis stream %s: %w", len(records), k.Stream, err)
	}
	if len(out.Records) != len(records) {
		return nil, fmt.Errorf("putting %d records on Kinesis stream %s: the response has %d results", len(records), k.Stream, len(out.Records))
	}
	res := make([]PutResult, len(records))
	for i, r := range out.Records {
		res[i] = PutResult{
			ShardID:        aws.ToString(r.ShardId),
			SequenceNumber: aws.ToString(r.SequenceNumber),
			ErrorCode:      aws.ToString(r.ErrorCode),
			ErrorMessage:   aws.ToString(r.ErrorMessage),
			Throttled:      aws.ToString(r.ErrorCode) == "ProvisionedThroughputExceededException",
		}
	}
	return res, nil
}

// permanent reports errors a retry cannot fix.
func permanent(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ResourceNotFoundException", "InvalidArgumentException", "ValidationException", "AccessDeniedException",
		"UnrecognizedClientException", "KMSAccessDeniedException", "KMSDisabledException", "KMSNotFoundException":
		return true
	}
	return false
}

// KinesisSource reads the shards of a Kinesis data stream with
// GetShardIterator and GetRecords. It keeps the next iterator of each shard,
// so reading on from the position it returned costs one GetRecords call.
type KinesisSource struct {
	API    KinesisReadAPI
	Stream string

	mu    sync.Mutex
	iters map[string]cachedIterator
}

type cachedIterator struct {
	after    string // the position the iterator reads after
	iterator string
}

// Shards implements Source.
func (k *KinesisSource) Shards(ctx context.Context) ([]Shard, error) {
	var out []Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(k.Stream)}
	for {
		page, err := k.API.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing shards of Kinesis stream %s: %w", k.Stream, err)
		}
		for _, s := range page.Shards {
			sh := Shard{ID: aws.ToString(s.ShardId)}
			for _, p := range []*string{s.ParentShardId, s.AdjacentParentShardId} {
				if p != nil && *p != "" {
					sh.Parents = append(sh.Parents, *p)
				}
			}
			if s.HashKeyRange != nil {
				sh.HashStart, sh.HashEnd = aws.ToString(s.HashKeyRange.StartingHashKey), aws.ToString(s.HashKeyRange.EndingHashKey)
			}
			out = append(out, sh)
		}
		if page.NextToken == nil || *page.NextToken == "" {
			return out, nil
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken}
	}
}

// ReadShard implements Source. A throttled read (Kinesis allows five per
// second per shard) is retried after a pause, a few times; then it returns
// an empty batch that says it is behind, so a Reader keeps going.
func (k *KinesisSource) ReadShard(ctx context.Context, shard, after string, limit int) (ShardBatch, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	for attempt := 0; ; attempt++ {
		iter, err := k.iterator(ctx, shard, after)
		if err != nil {
			return ShardBatch{}, err
		}
		if iter == "" { // the shard has no iterator left: closed and read
			return ShardBatch{Closed: true}, nil
		}
		out, err := k.API.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(int32(limit))})
		if err != nil {
			k.forget(shard)
			var expired *types.ExpiredIteratorException
			if errors.As(err, &expired) && attempt < 5 {
				continue
			}
			var throttled *types.ProvisionedThroughputExceededException
			if errors.As(err, &throttled) {
				if attempt < 5 {
					if err := wait.Sleep(ctx, time.Duration(200*(attempt+1))*time.Millisecond); err != nil {
						return ShardBatch{}, err
					}
					continue
				}
				return ShardBatch{Behind: time.Second}, nil
			}
			return ShardBatch{}, fmt.Errorf("getting records of %s/%s: %w", k.Stream, shard, err)
		}
		b := ShardBatch{Records: make([]StreamRecord, len(out.Records)), Behind: time.Duration(aws.ToInt64(out.MillisBehindLatest)) * time.Millisecond}
		last := after
		for i, r := range out.Records {
			b.Records[i] = StreamRecord{ShardID: shard, SequenceNumber: aws.ToString(r.SequenceNumber),
				PartitionKey: aws.ToString(r.PartitionKey), Data: r.Data, ArrivalTime: aws.ToTime(r.ApproximateArrivalTimestamp)}
			last = b.Records[i].SequenceNumber
		}
		next := aws.ToString(out.NextShardIterator)
		k.mu.Lock()
		k.iters[shard] = cachedIterator{after: last, iterator: next}
		k.mu.Unlock()
		b.Closed = next == ""
		return b, nil
	}
}

// iterator returns the cached iterator for reading after the position, or
// asks Kinesis for one.
func (k *KinesisSource) iterator(ctx context.Context, shard, after string) (string, error) {
	k.mu.Lock()
	if k.iters == nil {
		k.iters = map[string]cachedIterator{}
	}
	c, ok := k.iters[shard]
	k.mu.Unlock()
	if ok && c.after == after {
		return c.iterator, nil
	}
	in := &kinesis.GetShardIteratorInput{StreamName: aws.String(k.Stream), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
	if after != "" {
		in.ShardIteratorType = types.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(after)
	}
	out, err := k.API.GetShardIterator(ctx, in)
	if err != nil {
		return "", fmt.Errorf("getting an iterator for %s/%s after %q: %w", k.Stream, shard, after, err)
	}
	if out.ShardIterator == nil {
		return "", fmt.Errorf("getting an iterator for %s/%s after %q: Kinesis returned none", k.Stream, shard, after)
	}
	return *out.ShardIterator, nil
}

func (k *KinesisSource) forget(shard string) {
	k.mu.Lock()
	delete(k.iters, shard)
	k.mu.Unlock()
}
