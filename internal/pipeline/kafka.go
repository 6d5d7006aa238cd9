package pipeline

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// maxKafkaAttempts is how often one batch is tried before the speed step
// stops, as the speed Runner does for Kinesis.
const maxKafkaAttempts = 3

// runSpeedKafka plays the Kafka event source mapping: a consumer group
// reads the topic from its oldest record, each partition's batch goes to
// the speed handler as the event JSON the mapping sends (read back by the
// handler's parser), a batch the handler names a failed record in is sent
// again from that record, and the group commits past a batch taken whole.
func runSpeedKafka(ctx context.Context, cfg *Config, rep *Report) error {
	g, err := streaming.NewKafkaGroupReader(cfg.Kafka.Config, cfg.Kafka.Group)
	if err != nil {
		return err
	}
	defer g.Close()
	g.MaxRecords = cfg.ReadLimit
	c := &countingHandler{h: &speed.Handler{Store: cfg.Views}, stats: &rep.Speed}
	arn := "arn:aws:kafka:us-east-1:000000000000:cluster/" + cfg.Stream + "/local"
	return g.CatchUp(ctx, func(ctx context.Context, b streaming.KafkaBatch) error {
		rep.Speed.Batches++
		recs := make([]speed.KafkaRecord, len(b.Records))
		for i, r := range b.Records {
			recs[i] = speed.KafkaRecord{Topic: r.Topic, Partition: int64(r.Partition), Offset: r.Offset,
				Timestamp: r.Timestamp.UnixMilli(), TimestampType: "CREATE_TIME", Key: r.Key, Value: r.Value}
			for _, h := range r.Headers {
				recs[i].Headers = append(recs[i].Headers, speed.KafkaHeader{Key: h.Key, Value: h.Value})
			}
		}
		tp := fmt.Sprintf("%s-%d", b.Topic, b.Partition)
		for attempt := 1; ; attempt++ {
			payload, err := json.Marshal(speed.KafkaEvent{EventSource: speed.SourceMSK, EventSourceARN: arn,
				Records: map[string][]speed.KafkaRecord{tp: recs}})
			if err != nil {
				return fmt.Errorf("encoding the Kafka event of %s: %w", tp, err)
			}
			ev, err := speed.ParseKafkaEvent(payload)
			if err != nil {
				return err
			}
			res := c.h.ProcessKafka(ctx, ev)
			c.add(&res)
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
			if attempt >= maxKafkaAttempts {
				return fmt.Errorf("speed handler on %s from offset %d: %d attempts: %v", tp, from, attempt, res.Failed[0].Err)
			}
		}
	})
}
