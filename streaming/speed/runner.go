package speed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
)

// KinesisHandler is what the runner invokes: Handler.Handle, or anything
// with its signature (a Lambda client in tests of a deployed function).
type KinesisHandler interface {
	Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error)
}

// Runner plays the Kinesis event source mapping on this machine. It reads
// every shard of a stream through streaming.Reader (the in-memory stream,
// or Kinesis on an emulator), hands each batch to the handler as an
// events.KinesisEvent with the shard's real id and sequence numbers, and,
// when the handler names a record in BatchItemFailures, invokes it again
// with the batch from that record on, as the mapping does with
// ReportBatchItemFailures. A batch that still fails after MaxAttempts stops
// the runner without moving past it: nothing is skipped.
//
// The position in every shard is saved in Checkpoints (when set) after
// each batch the handler took whole, so a new runner resumes there.
type Runner struct {
	Source  streaming.Source
	Handler KinesisHandler
	// Stream names the stream in event source ARNs and the checkpoint key.
	Stream string
	// Region goes into the records' awsRegion and ARNs (default us-east-1).
	Region string
	// BatchSize is the most records per invocation (default 100, the
	// event source mapping's default).
	BatchSize int
	// MaxAttempts is how often one batch is tried (default 3).
	MaxAttempts int
	// Checkpoints keeps the shard positions; nil keeps them in memory.
	Checkpoints storage.Store

	cp     streaming.Checkpoint
	loaded bool
	stats  RunStats
}

// RunStats counts what a runner did.
type RunStats struct {
	Batches     int // batches read
	Invocations int // handler calls, retries included
	Retries     int // invocations that resumed a batch after a failure
	Records     int // stream records handed over (first attempts)
}

// Stats returns the counters so far.
func (r *Runner) Stats() RunStats { return r.stats }

// CheckpointKey is where the runner keeps its shard positions.
func (r *Runner) CheckpointKey() string { return "_checkpoints/speed/" + r.Stream + ".json" }

// CatchUp reads every shard until a round of reads finds nothing new.
func (r *Runner) CatchUp(ctx context.Context) error {
	if err := r.load(ctx); err != nil {
		return err
	}
	rd := &streaming.Reader{Source: r.Source, Limit: r.batchSize()}
	return rd.CatchUp(ctx, &r.cp, r.handle)
}

// Follow reads until ctx is done, polling shards that have nothing new.
func (r *Runner) Follow(ctx context.Context) error {
	if err := r.load(ctx); err != nil {
		return err
	}
	rd := &streaming.Reader{Source: r.Source, Limit: r.batchSize()}
	return rd.Follow(ctx, &r.cp, r.handle)
}

func (r *Runner) batchSize() int {
	if r.BatchSize > 0 {
		return r.BatchSize
	}
	return 100
}

func (r *Runner) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	if r.Stream == "" {
		return errors.New("speed runner: no stream name")
	}
	r.cp = streaming.Checkpoint{Shards: map[string]streaming.ShardPosition{}}
	if r.Checkpoints != nil {
		data, err := storage.ReadAll(ctx, r.Checkpoints, r.CheckpointKey())
		switch {
		case errors.Is(err, storage.ErrNotExist):
		case err != nil:
			return fmt.Errorf("reading the speed runner checkpoint: %w", err)
		default:
			if err := json.Unmarshal(data, &r.cp); err != nil {
				return fmt.Errorf("decoding the speed runner checkpoint %s: %w", storage.Join(r.Checkpoints.Location(), r.CheckpointKey()), err)
			}
			if r.cp.Shards == nil {
				r.cp.Shards = map[string]streaming.ShardPosition{}
			}
		}
	}
	r.loaded = true
	return nil
}

// KinesisEvent builds the event the mapping would send for records of one
// shard of stream.
func KinesisEvent(region, stream, shard string, recs []streaming.StreamRecord) events.KinesisEvent {
	if region == "" {
		region = "us-east-1"
	}
	arn := fmt.Sprintf("arn:aws:kinesis:%s:000000000000:stream/%s", region, stream)
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, len(recs))}
	for i, rec := range recs {
		ev.Records[i] = events.KinesisEventRecord{
			AwsRegion: region, EventID: shard + ":" + rec.SequenceNumber, EventName: "aws:kinesis:record",
			EventSource: "aws:kinesis", EventSourceArn: arn, EventVersion: "1.0",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: rec.ArrivalTime},
				Data:                        rec.Data, PartitionKey: rec.PartitionKey,
				SequenceNumber: rec.SequenceNumber, KinesisSchemaVersion: "1.0",
			},
		}
	}
	return ev
}

// handle invokes the handler for one batch, retrying from the failed
// record, and saves the checkpoint past the batch once it is handled.
func (r *Runner) handle(ctx context.Context, b streaming.Batch) error {
	r.stats.Batches++
	r.stats.Records += len(b.Records)
	recs := b.Records
	attempts := r.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	for attempt := 1; ; attempt++ {
		r.stats.Invocations++
		resp, err := r.Handler.Handle(ctx, KinesisEvent(r.Region, r.Stream, b.ShardID, recs))
		if err == nil && len(resp.BatchItemFailures) == 0 {
			break
		}
		if err == nil {
			// Resume from the earliest record named, as the mapping does.
			from := -1
			for _, f := range resp.BatchItemFailures {
				for i := range recs {
					if recs[i].SequenceNumber == f.ItemIdentifier && (from < 0 || i < from) {
						from = i
					}
				}
			}
			if from < 0 {
				return fmt.Errorf("speed handler on %s: failure names %q, which is not in the batch", b.ShardID, resp.BatchItemFailures[0].ItemIdentifier)
			}
			recs = recs[from:]
			err = fmt.Errorf("the handler asked to retry from sequence number %s", recs[0].SequenceNumber)
		}
		if attempt >= attempts {
			return fmt.Errorf("speed handler on %s from sequence number %s: %d attempts: %w", b.ShardID, recs[0].SequenceNumber, attempt, err)
		}
		r.stats.Retries++
	}
	if r.Checkpoints == nil {
		return nil
	}
	// The reader moves the position after this returns; save it as it
	// will be.
	cp := streaming.Checkpoint{Shards: maps.Clone(r.cp.Shards)}
	pos := cp.Shards[b.ShardID]
	pos.Sequence = b.Records[len(b.Records)-1].SequenceNumber
	cp.Shards[b.ShardID] = pos
	data, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the speed runner checkpoint: %w", err)
	}
	if err := r.Checkpoints.Put(ctx, r.CheckpointKey(), append(data, '\n')); err != nil {
		return fmt.Errorf("saving the speed runner checkpoint %s: %w", storage.Join(r.Checkpoints.Location(), r.CheckpointKey()), err)
	}
	return nil
}
