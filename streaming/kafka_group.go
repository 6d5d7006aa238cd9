package streaming

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaGroupReader consumes a topic in a consumer group, as Lambda's Kafka
// event source mapping does: it polls batches, hands each partition's run
// of records to a function, and commits the group's offset past a batch
// only when the function took it whole. An error stops the reader without
// committing, so a new reader of the same group starts at that batch again.
type KafkaGroupReader struct {
	client *kgo.Client
	admin  *kadm.Client
	topic  string
	group  string
	// MaxRecords is the most records one batch holds (default 100, the
	// event source mapping's default batch size).
	MaxRecords int
	// Idle bounds how long CatchUp waits for a record it knows is there
	// (default 30s).
	Idle time.Duration
}

// KafkaBatch is a run of consecutive records of one partition.
type KafkaBatch struct {
	Topic     string
	Partition int32
	Records   []*kgo.Record
}

// NewKafkaGroupReader joins group on cfg's topic, reading from the oldest
// record where the group has no committed offset. It connects once first,
// so a wrong address or credential is one error here (see ping).
func NewKafkaGroupReader(ctx context.Context, cfg KafkaConfig, group string, extra ...kgo.Opt) (*KafkaGroupReader, error) {
	if group == "" {
		return nil, errors.New("kafka: no consumer group")
	}
	opts, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ConsumerGroup(group), kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	opts = append(opts, extra...)
	if err := ping(ctx, cfg, opts); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, kgo.AlwaysRetryEOF())...)
	if err != nil {
		return nil, fmt.Errorf("connecting consumer group %s to Kafka at %s: %w", group, strings.Join(cfg.Brokers, ","), err)
	}
	return &KafkaGroupReader{client: cl, admin: kadm.NewClient(cl), topic: cfg.Topic, group: group}, nil
}

// Close leaves the group and closes the connections.
func (g *KafkaGroupReader) Close() { g.client.Close() }

// CatchUp reads until the group's position in every partition reaches the
// end offsets the topic had when CatchUp began, calling fn per batch
// (batches of one partition in order, one at a time).
func (g *KafkaGroupReader) CatchUp(ctx context.Context, fn func(ctx context.Context, b KafkaBatch) error) error {
	ends, err := g.admin.ListEndOffsets(ctx, g.topic)
	if err != nil {
		return fmt.Errorf("listing end offsets of Kafka topic %s: %w", g.topic, err)
	}
	if err := ends.Error(); err != nil {
		return fmt.Errorf("listing end offsets of Kafka topic %s: %w", g.topic, err)
	}
	committed, err := g.admin.FetchOffsets(ctx, g.group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = kadm.OffsetResponses{}, nil // a new group
	}
	if err != nil {
		return fmt.Errorf("fetching the offsets of consumer group %s: %w", g.group, err)
	}
	starts, err := g.admin.ListStartOffsets(ctx, g.topic)
	if err != nil {
		return fmt.Errorf("listing start offsets of Kafka topic %s: %w", g.topic, err)
	}
	want := map[int32]int64{} // partition -> offset the group must reach
	ends.Each(func(o kadm.ListedOffset) {
		pos := int64(0)
		if s, ok := starts.Lookup(g.topic, o.Partition); ok {
			pos = s.Offset
		}
		if c, ok := committed.Lookup(g.topic, o.Partition); ok && c.At >= 0 {
			pos = max(pos, c.At)
		}
		if pos < o.Offset {
			want[o.Partition] = o.Offset
		}
	})
	batchMax := g.MaxRecords
	if batchMax <= 0 {
		batchMax = 100
	}
	idle := g.Idle
	if idle <= 0 {
		idle = 30 * time.Second
	}
	for len(want) > 0 {
		pollCtx, cancel := context.WithTimeout(ctx, idle)
		fs := g.client.PollRecords(pollCtx, 0)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		if pollCtx.Err() != nil && fs.NumRecords() == 0 {
			return fmt.Errorf("consumer group %s on Kafka topic %s: no record within %s although %d partitions are behind", g.group, g.topic, idle, len(want))
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = errors.Join(ferr, fmt.Errorf("partition %d: %w", p, err))
			}
		})
		if ferr != nil {
			return fmt.Errorf("consumer group %s reading Kafka topic %s: %w", g.group, g.topic, ferr)
		}
		var stop error
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			recs := p.Records
			for stop == nil && len(recs) > 0 {
				n := min(len(recs), batchMax)
				b := KafkaBatch{Topic: p.Topic, Partition: p.Partition, Records: recs[:n]}
				recs = recs[n:]
				if err := fn(ctx, b); err != nil {
					stop = err
					return
				}
				if err := g.client.CommitRecords(ctx, b.Records...); err != nil {
					stop = fmt.Errorf("committing consumer group %s on %s partition %d: %w", g.group, p.Topic, p.Partition, err)
					return
				}
				if last := b.Records[n-1].Offset; last+1 >= want[p.Partition] {
					delete(want, p.Partition)
				}
			}
		})
		if stop != nil {
			return stop
		}
	}
	return nil
}
