package pipeline

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/firehose"
	"github.com/lambdastack/lambdastack/streaming/speed"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

// Config is one run.
type Config struct {
	// Gen describes the events; Start and Hours place their arrivals.
	Gen gen.Config
	// Now is the run's clock: the batch watermark and the merge use it.
	Now time.Time
	// Lateness is the batch layer's allowed lateness.
	Lateness time.Duration
	// Stream names the stream (object names, ARNs); Sink and Source are
	// its two halves.
	Stream string
	Sink   streaming.Sink
	Source streaming.Source
	// Kafka, when set, says the stream is a Kafka topic (Sink and Source
	// are its producer and reader): the speed layer then reads it in a
	// consumer group as the Kafka event source mapping does, and the
	// Firehose runner sends the transform the events of an MSK source.
	Kafka *Kafka
	// Producer settings for putting the events on the stream.
	Producer streaming.ProducerConfig
	// BufferBytes is the Firehose runner's buffer size (0: Firehose's).
	BufferBytes int
	// ReadLimit is how many records one shard read takes at most: the
	// Firehose runner's read and the speed event source mapping's batch
	// size.
	ReadLimit int
	// Raw receives events/ and errors/; Views batch/, speed/ and merged/.
	Raw, Views storage.Store
	// Log gets one line per step; nil for none.
	Log io.Writer
	// Redelivery says the stream may hold a record more than once (a
	// reply lost after Kinesis took a PutRecords call makes the SDK send it
	// again): the raw store may then hold more copies of a record than were
	// accepted, never fewer. The views count each event once either way.
	Redelivery bool
}

// Kafka is how the speed layer reaches a Kafka stream.
type Kafka struct {
	Config streaming.KafkaConfig
	// Group is the speed layer's consumer group.
	Group string
}

// Report is what a run did and whether it reconciles.
type Report struct {
	Generated gen.Summary
	Produced  streaming.ProducerStats
	Firehose  firehose.Stats
	// Raw counts the NDJSON lines read back per route ("events",
	// "errors/<reason>", "processing-failed").
	Raw        map[string]int64
	Speed      SpeedStats
	Batch      *batch.Summary
	Merge      *batch.MergeSummary
	Reconciled Reconciliation
	Steps      []Step
	// Expected is what the pipeline must produce, computed from the
	// generated records by validating them here, independently of it.
	Expected Expected
}

// Expected holds the independent expectations of a run.
type Expected struct {
	// Hours aggregates every distinct accepted event once, per hour.
	Hours agg.Table
	// RawByHour counts the accepted records (duplicates included) per
	// "YYYY-MM-DD/HH" of event_time: what raw events/ must hold.
	RawByHour map[string]int64
	// Users holds the exact distinct users per day at each rollup level
	// of the users view.
	Users DistinctUsers
	// Redelivery: the raw store may hold extra copies (Config.Redelivery).
	Redelivery bool
}

// Step is one step's name and duration.
type Step struct {
	Name    string
	Elapsed time.Duration
}

// SpeedStats adds up the speed handler's invocations.
type SpeedStats struct {
	Batches     int // batches read from the shards
	Invocations int // handler calls, retries included
	Records     int
	Events      int
	Duplicates  int
	Invalid     map[string]int
	Objects     int
}

func (c *Config) logf(format string, a ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", a...)
	}
}

// Run runs the pipeline once.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	rep := &Report{}
	step := func(name string, fn func() error) error {
		start := time.Now()
		err := fn()
		rep.Steps = append(rep.Steps, Step{Name: name, Elapsed: time.Since(start)})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	}
	if err := step("generate and produce", func() error { return produce(ctx, &cfg, rep) }); err != nil {
		return rep, err
	}
	cfg.logf("generated %d records (%d accepted, %d rejected), put %d on stream %s",
		rep.Generated.Events, rep.Generated.Accepted, rep.Generated.RejectedTotal, rep.Produced.Records, cfg.Stream)

	if err := step("firehose", func() error {
		r := &firehose.Runner{Source: cfg.Source, Store: cfg.Raw, Transform: &transform.Handler{}, Stream: cfg.Stream,
			BufferBytes: cfg.BufferBytes, ReadLimit: cfg.ReadLimit, MSK: cfg.Kafka != nil}
		if err := r.CatchUp(ctx); err != nil {
			return err
		}
		rep.Firehose = r.Stats()
		var err error
		rep.Raw, err = firehose.Count(ctx, cfg.Raw)
		return err
	}); err != nil {
		return rep, err
	}
	cfg.logf("firehose: %d records transformed into %d raw objects in %s", rep.Firehose.Records, rep.Firehose.Objects, cfg.Raw.Location())

	if err := step("speed", func() error { return runSpeed(ctx, &cfg, rep) }); err != nil {
		return rep, err
	}
	cfg.logf("speed: %d invocations wrote %d objects (%d events, %d in-batch duplicates)",
		rep.Speed.Invocations, rep.Speed.Objects, rep.Speed.Events, rep.Speed.Duplicates)

	now := func() time.Time { return cfg.Now }
	if err := step("batch", func() (err error) {
		b := &batch.Builder{Raw: cfg.Raw, Out: cfg.Views, Now: now, Lateness: cfg.Lateness}
		rep.Batch, err = b.Run(ctx)
		return err
	}); err != nil {
		return rep, err
	}
	cfg.logf("batch: %d hours built, watermark %s", len(rep.Batch.Hours), rep.Batch.Watermark.Format(time.RFC3339))
	if rep.Batch.Unpublished != "" {
		cfg.logf("batch: %s", rep.Batch.Unpublished)
	}

	if err := step("merge", func() (err error) {
		m := &batch.Merger{Batch: cfg.Views, Speed: cfg.Views, Out: cfg.Views, Now: now}
		rep.Merge, err = m.Run(ctx)
		return err
	}); err != nil {
		return rep, err
	}
	cfg.logf("merge: %d days published (%d hour rows, %d day rows)", len(rep.Merge.Days), rep.Merge.HourRows, rep.Merge.DayRows)

	if err := step("reconcile", func() (err error) {
		rep.Reconciled, err = Reconcile(ctx, cfg.Views, rep.Expected, rep.Generated, rep.Raw)
		return err
	}); err != nil {
		return rep, err
	}
	return rep, nil
}

// produce generates the events, validates each one independently of the
// pipeline to know what must come out, and puts them on the stream.
func produce(ctx context.Context, cfg *Config, rep *Report) error {
	g, err := gen.New(cfg.Gen)
	if err != nil {
		return err
	}
	p, err := streaming.NewProducer(ctx, cfg.Sink, cfg.Producer)
	if err != nil {
		return fmt.Errorf("starting the producer: %w", err)
	}
	expected := agg.Table{}
	rep.Expected = Expected{Hours: expected, RawByHour: map[string]int64{}, Users: DistinctUsers{}, Redelivery: cfg.Redelivery}
	seen := map[uint64]bool{}
	for !g.Done() {
		rec := g.Next()
		// What the pipeline must count: every accepted event once.
		if e, rej := event.Validate(rec.Data, rec.Arrival); rej == nil {
			rep.Expected.RawByHour[e.Dt()+"/"+e.Hour()]++
			fp := agg.Fingerprint(e.EventID)
			if !seen[fp] {
				seen[fp] = true
				k := agg.Key{WindowStart: agg.Window(e.EventTime, agg.Hour), EventType: e.EventType, Source: e.Source}
				expected.Get(k, false).Add(fp, agg.UserHash(e.UserID), e.Value)
				rep.Expected.Users.Add(e)
			}
		}
		if err := p.Put(ctx, streaming.Record{PartitionKey: rec.UserID, Data: append([]byte(nil), rec.Data...)}); err != nil {
			p.Close(ctx)
			return fmt.Errorf("putting a record on stream %s: %w", cfg.Stream, err)
		}
	}
	if err := p.Close(ctx); err != nil {
		return fmt.Errorf("flushing the producer: %w", err)
	}
	rep.Generated = g.Summary()
	rep.Produced = p.Stats()
	if rep.Produced.Failed > 0 {
		return fmt.Errorf("%d records could not be put on stream %s", rep.Produced.Failed, cfg.Stream)
	}
	return nil
}

// runSpeed plays the Kinesis event source mapping (speed.Runner, from
// the oldest record of every shard) with the speed handler, counting what
// each invocation did.
func runSpeed(ctx context.Context, cfg *Config, rep *Report) error {
	rep.Speed.Invalid = map[string]int{}
	if cfg.Kafka != nil {
		return runSpeedKafka(ctx, cfg, rep)
	}
	h := &countingHandler{h: &speed.Handler{Store: cfg.Views, Deaggregate: speed.KPL}, stats: &rep.Speed}
	r := &speed.Runner{Source: cfg.Source, Handler: h, Stream: cfg.Stream, BatchSize: cfg.ReadLimit}
	if err := r.CatchUp(ctx); err != nil {
		return err
	}
	rep.Speed.Batches = r.Stats().Batches
	return nil
}

// countingHandler is the speed handler, adding up what each invocation
// did. Like Handler.Handle it reports failed records for a retry.
type countingHandler struct {
	h     *speed.Handler
	stats *SpeedStats
}

func (c *countingHandler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	res := c.h.Process(ctx, ev)
	c.add(&res)
	return events.KinesisEventResponse{BatchItemFailures: res.Failures}, nil
}

// add counts one invocation.
func (c *countingHandler) add(res *speed.Result) {
	s := c.stats
	s.Invocations++
	s.Records += res.UserRecords
	s.Events += res.Events
	s.Duplicates += res.Duplicates
	s.Objects += len(res.Objects)
	for k, n := range res.Invalid {
		s.Invalid[k] += n
	}
}
