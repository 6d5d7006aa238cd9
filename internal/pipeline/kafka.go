package pipeline

import (
	"context"

	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// runSpeedKafka plays the Kafka event source mapping (speed.KafkaRunner,
// a consumer group from the oldest record) with the speed handler,
// counting what each invocation did.
func runSpeedKafka(ctx context.Context, cfg *Config, rep *Report) error {
	g, err := streaming.NewKafkaGroupReader(ctx, cfg.Kafka.Config, cfg.Kafka.Group)
	if err != nil {
		return err
	}
	defer g.Close()
	g.MaxRecords = cfg.ReadLimit
	c := &countingHandler{h: &speed.Handler{Store: cfg.Views}, stats: &rep.Speed}
	r := &speed.KafkaRunner{Group: g, Handler: c.h, ARN: "arn:aws:kafka:us-east-1:000000000000:cluster/" + cfg.Stream + "/local", OnResult: c.add}
	err = r.CatchUp(ctx)
	rep.Speed.Batches = r.Stats().Batches
	return err
}
