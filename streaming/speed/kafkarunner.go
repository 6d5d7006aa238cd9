package speed

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lambdastack/lambdastack/streaming"
)

// KafkaRunner plays the Kafka event source mapping on this machine: a
// consumer group (streaming.KafkaGroupReader) reads the topic, each
// partition's batch goes to the handler as the event JSON the mapping sends
// (read back with the handler's own parser), a batch in which the handler
// names a failed record is sent again from that record, and the group
// commits past a batch taken whole. A batch that still fails after
// MaxAttempts stops the runner without committing it.
type KafkaRunner struct {
	Group   *streaming.KafkaGroupReader
	Handler *Handler
	// Source is the eventSource of the events (default SourceMSK).
	Source string
	// ARN names the cluster in eventSourceArn.
	ARN string
	// MaxAttempts is how often one batch is tried (default 3).
	MaxAttempts int
	// OnResult, when set, sees what every invocation did.
	OnResult func(*Result)

	stats RunStats
}

// Stats returns the counters so far.
func (r *KafkaRunner) Stats() RunStats { return r.stats }

// CatchUp reads until the group has handled every record the topic held
// when it began.
func (r *KafkaRunner) CatchUp(ctx context.Context) error {
	return r.Group.CatchUp(ctx, r.handle)
}

func (r *KafkaRunner) handle(ctx context.Context, b streaming.KafkaBatch) error {
	r.stats.Batches++
	r.stats.Records += len(b.Records)
	recs := make([]KafkaRecord, len(b.Records))
	for i, k := range b.Records {
		recs[i] = KafkaRecord{Topic: k.Topic, Partition: int64(k.Partition), Offset: k.Offset,
			Timestamp: k.Timestamp.UnixMilli(), TimestampType: "CREATE_TIME", Key: k.Key, Value: k.Value}
		if k.Attrs.TimestampType() == 1 {
			recs[i].TimestampType = "LOG_APPEND_TIME"
		}
		for _, h := range k.Headers {
			recs[i].Headers = append(recs[i].Headers, KafkaHeader{Key: h.Key, Value: h.Value})
		}
	}
	tp := fmt.Sprintf("%s-%d", b.Topic, b.Partition)
	source := r.Source
	if source == "" {
		source = SourceMSK
	}
	attempts := r.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	for attempt := 1; ; attempt++ {
		r.stats.Invocations++
		payload, err := json.Marshal(KafkaEvent{EventSource: source, EventSourceARN: r.ARN, Records: map[string][]KafkaRecord{tp: recs}})
		if err != nil {
			return fmt.Errorf("encoding the Kafka event of %s: %w", tp, err)
		}
		ev, err := ParseKafkaEvent(payload)
		if err != nil {
			return err
		}
		res := r.Handler.ProcessKafka(ctx, ev)
		if r.OnResult != nil {
			r.OnResult(&res)
		}
		if len(res.KafkaFailures) == 0 {
			return nil
		}
		from := res.KafkaFailures[0].ItemIdentifier.Offset
		i := 0
		for i < len(recs) && recs[i].Offset < from {
			i++
		}
		if i == len(recs) {
			return fmt.Errorf("speed handler on %s: failure names offset %d, which is not in the batch", tp, from)
		}
		recs = recs[i:]
		if attempt >= attempts {
			return fmt.Errorf("speed handler on %s from offset %d: %d attempts: %v", tp, from, attempt, res.Failed[0].Err)
		}
		r.stats.Retries++
	}
}
