package streaming

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/lambdastack/lambdastack/internal/wait"
)

// Checkpoint is where a reader stands in every shard of a stream. It is
// plain data: save it as JSON wherever the caller keeps state.
type Checkpoint struct {
	Shards map[string]ShardPosition `json:"shards"`
}

// ShardPosition is the position in one shard.
type ShardPosition struct {
	// Sequence is the last record handled ("" = none yet).
	Sequence string `json:"sequence,omitempty"`
	// Done reports that the shard is closed and every record in it was
	// handled; its children may then be read.
	Done bool `json:"done,omitempty"`
}

// Batch is a run of consecutive records of one shard.
type Batch struct {
	ShardID string
	Records []StreamRecord
	// Behind is how far the batch is behind the tip of the shard.
	Behind time.Duration
}

// Reader reads every shard of a Source in order, resuming from a
// Checkpoint. A child shard (after a split or merge) is read only once its
// parents are done, so records of one partition key come in order; a
// parent the stream no longer lists (expired) counts as done.
type Reader struct {
	Source Source
	// Limit is the most records one read returns (default 1000).
	Limit int
	// Poll is how long Follow waits when no shard had new records
	// (default 1s; Kinesis allows 5 reads per second per shard).
	Poll time.Duration
	// Sleep waits for d or until ctx is done; nil uses a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// HandleFunc handles one batch. Batches of one shard come in order and
// one at a time; the checkpoint advances past a batch only when the
// function returns nil. An error stops the reader and is returned.
type HandleFunc func(ctx context.Context, b Batch) error

// CatchUp reads every shard until a round of reads finds no new record
// (and no shard reports being behind), calling fn per batch, and returns. It is what a test, the demo or a
// scheduled run needs.
func (r *Reader) CatchUp(ctx context.Context, cp *Checkpoint, fn HandleFunc) error {
	return r.run(ctx, cp, fn, false)
}

// Follow reads every shard until ctx is done, waiting Poll between rounds
// that found nothing. It returns ctx's error or the first error from fn or
// the Source.
func (r *Reader) Follow(ctx context.Context, cp *Checkpoint, fn HandleFunc) error {
	return r.run(ctx, cp, fn, true)
}

func (r *Reader) run(ctx context.Context, cp *Checkpoint, fn HandleFunc, follow bool) error {
	if cp.Shards == nil {
		cp.Shards = map[string]ShardPosition{}
	}
	limit := r.Limit
	if limit <= 0 {
		limit = 1000
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		shards, err := r.Source.Shards(ctx)
		if err != nil {
			return fmt.Errorf("listing shards: %w", err)
		}
		sort.Slice(shards, func(i, j int) bool { return shards[i].ID < shards[j].ID })
		listed := make(map[string]bool, len(shards))
		for _, s := range shards {
			listed[s.ID] = true
		}
		progress := false
		for _, s := range shards {
			pos := cp.Shards[s.ID]
			if pos.Done || !parentsDone(s, cp, listed) {
				continue
			}
			b, err := r.Source.ReadShard(ctx, s.ID, pos.Sequence, limit)
			if err != nil {
				return fmt.Errorf("reading shard %s after %q: %w", s.ID, pos.Sequence, err)
			}
			if len(b.Records) > 0 {
				if err := fn(ctx, Batch{ShardID: s.ID, Records: b.Records, Behind: b.Behind}); err != nil {
					return err
				}
				pos.Sequence = b.Records[len(b.Records)-1].SequenceNumber
				progress = true
			}
			if b.Closed {
				pos.Done = true
				progress = true // children may be readable now
			}
			if len(b.Records) == 0 && b.Behind > 0 && !follow {
				// Nothing came back but the stream says there is more
				// (an empty page, or a throttled read): keep going.
				progress = true
				if err := r.sleep(ctx, min(r.poll(), 200*time.Millisecond)); err != nil {
					return err
				}
			}
			cp.Shards[s.ID] = pos
		}
		if progress {
			continue
		}
		if !follow {
			return nil
		}
		if err := r.sleep(ctx, r.poll()); err != nil {
			return err
		}
	}
}

func parentsDone(s Shard, cp *Checkpoint, listed map[string]bool) bool {
	for _, p := range s.Parents {
		if p != "" && listed[p] && !cp.Shards[p].Done {
			return false
		}
	}
	return true
}

func (r *Reader) poll() time.Duration {
	if r.Poll > 0 {
		return r.Poll
	}
	return time.Second
}

func (r *Reader) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return wait.Sleep(ctx, d)
}
