package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

func init() {
	register(&command{
		name:    "speed",
		summary: "run the speed-layer handler on Kinesis or Kafka event JSON, a Kinesis stream or a Kafka topic, and write the speed view",
		usage: `Runs the speed Lambda's handler and writes one Parquet object per hour and shard
batch under speed/dt=YYYY-MM-DD/hour=HH/ in --out.

Without --stream it reads events (the JSON an event source mapping sends the function)
from --event or stdin, one invocation per event: Kinesis events ("Records" from
aws:kinesis; "lambdastack generate --format kinesis" writes one per line) and Kafka
events (eventSource aws:kafka for MSK or aws:SelfManagedKafka, records by
topic-partition), told apart by eventSource; anything else is an error. The object
keys and bytes depend only on the batch: running the same events again overwrites
the same objects.

With --stream it plays the event source mapping: it reads every shard of that
Kinesis stream (AWS, or an emulator through AWS_ENDPOINT_URL) in batches of
--batch-size records, retries a batch from the record the handler names, and keeps
its shard positions in --out under _checkpoints/speed/. It stops when the stream
has nothing new, or runs until interrupted with --follow.

With --brokers and --topic it plays the Kafka (MSK) event source mapping: it reads the
topic in consumer group --group (from the oldest record where the group has no offset),
sends the handler each partition's batch of up to --batch-size records as a Kafka event,
retries a batch from the offset the handler names, and commits the group's offset past a
batch taken whole. It stops once it has read what the topic held when it started. The
Kafka flags are produce's (--sasl, --sasl-user, --tls; see lambdastack produce --help).

Prints what each invocation did and the totals; invalid records are counted by
reason and skipped. Needs --out: a directory or s3://bucket/prefix (AWS access from
the standard AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			eventFile := fs.String("event", "", "file of Kinesis or Kafka event JSON, one or more events (default: stdin)")
			out := fs.String("out", "", "views location: a directory or s3://bucket/prefix (required)")
			stream := fs.String("stream", "", "read this Kinesis stream instead of event JSON")
			batchSize := fs.Int("batch-size", 100, "with --stream or --topic: most records per invocation")
			var kf kafkaFlags
			kf.register(fs)
			group := fs.String("group", "lambdastack-speed", "with --topic: the Kafka consumer group")
			follow := fs.Bool("follow", false, "with --stream: keep reading until interrupted")
			metrics := fs.Bool("metrics", false, "also print the CloudWatch Embedded Metric Format lines the Lambda would log, to stderr")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *out == "" {
					return usagef("--out is required")
				}
				if (*stream != "" || kf.brokers != "" || kf.topic != "") && *eventFile != "" {
					return usagef("--event excludes --stream and --brokers/--topic")
				}
				kafka := false
				if *stream != "" || kf.brokers != "" || kf.topic != "" {
					var err error
					if kafka, err = kf.chosen(*stream); err != nil {
						return err
					}
				}
				st, err := openStore(ctx, *out)
				if err != nil {
					return err
				}
				h := &speed.Handler{Store: st, Log: env.stderr}
				if *metrics {
					h.Metrics = env.stderr
				}
				p := &speedPrinter{w: env.stdout, h: h, totals: speedTotals{invalid: map[string]int{}}}
				if kafka {
					kc, err := kf.config(ctx)
					if err != nil {
						return err
					}
					g, err := streaming.NewKafkaGroupReader(ctx, kc, *group)
					if err != nil {
						return err
					}
					defer g.Close()
					g.MaxRecords = *batchSize
					r := &speed.KafkaRunner{Group: g, Handler: h, OnResult: p.addKafka}
					err = r.CatchUp(ctx)
					s := r.Stats()
					fmt.Fprintf(env.stdout, "Kafka topic %s, group %s: %d batches, %d invocations (%d retries)\n", kc.Topic, *group, s.Batches, s.Invocations, s.Retries)
					return p.finish(err)
				}
				if *stream != "" {
					cfg, err := awscfg.Load(ctx, awscfg.Options{})
					if err != nil {
						return err
					}
					if err := checkStream(ctx, cfg, *stream); err != nil {
						return err
					}
					r := &speed.Runner{Source: &streaming.KinesisSource{API: cfg.Kinesis(), Stream: *stream},
						Handler: p, Stream: *stream, Region: cfg.AWS.Region, BatchSize: *batchSize, Checkpoints: st}
					if *follow {
						err = r.Follow(ctx)
						if errors.Is(err, context.Canceled) {
							err = nil
						}
					} else {
						err = r.CatchUp(ctx)
					}
					s := r.Stats()
					fmt.Fprintf(env.stdout, "stream %s: %d batches, %d invocations (%d retries)\n", *stream, s.Batches, s.Invocations, s.Retries)
					return p.finish(err)
				}
				in, name := env.stdin, "stdin"
				if *eventFile != "" {
					name = *eventFile
					f, err := os.Open(*eventFile)
					if err != nil {
						return fmt.Errorf("opening event file: %w", err)
					}
					defer f.Close()
					in = f
				}
				return p.finish(p.readEvents(ctx, in, name))
			}
		},
	})
}

// speedTotals adds up the invocations of one run.
type speedTotals struct {
	invocations, records, userRecords, events, duplicates int
	invalid                                               map[string]int
	objects, rows                                         int
	failed                                                []string
}

// speedPrinter invokes the handler, prints what each invocation did and
// adds it up. It is the handler the runner calls in --stream mode.
type speedPrinter struct {
	w      io.Writer
	h      *speed.Handler
	totals speedTotals
}

func (p *speedPrinter) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	res := p.h.Process(ctx, ev)
	p.add(&res)
	for _, f := range res.Failures {
		p.totals.failed = append(p.totals.failed, fmt.Sprintf("invocation %d: retry from sequence number %s", p.totals.invocations, f.ItemIdentifier))
	}
	return events.KinesisEventResponse{BatchItemFailures: res.Failures}, nil
}

// add prints one invocation and adds it to the totals.
func (p *speedPrinter) add(res *speed.Result) {
	t := &p.totals
	t.invocations++
	printSpeedInvocation(p.w, t.invocations, res)
	t.records += res.Records
	t.userRecords += res.UserRecords
	t.events += res.Events
	t.duplicates += res.Duplicates
	for r, n := range res.Invalid {
		t.invalid[r] += n
	}
	t.objects += len(res.Objects)
	for _, o := range res.Objects {
		t.rows += o.Rows
	}
}

// eventHint says what --event holds.
const eventHint = `expected Kinesis event JSON, {"Records":[{"kinesis":{"data":…,"partitionKey":…,"sequenceNumber":…},…}]}, ` +
	"as `lambdastack generate --format kinesis` writes, or Kafka event JSON, " +
	`{"eventSource":"aws:kafka","records":{"<topic>-<partition>":[{"offset":…,"value":…},…]}}, one or more ` +
	"(NDJSON events go to `produce` or `generate`)"

// readEvents invokes the handler once per Kinesis or Kafka event JSON value
// in in (named name in messages); no event, or one that is neither kind, is
// an error.
func (p *speedPrinter) readEvents(ctx context.Context, in io.Reader, name string) error {
	objs := newObjectReader(in)
	for n := 1; ; n++ {
		raw, err := objs.next()
		switch {
		case err == io.EOF && n == 1:
			return fmt.Errorf("no Kinesis or Kafka events in %s: %s", name, eventHint)
		case err == io.EOF:
			return nil
		case errors.Is(err, errNotObject):
			return fmt.Errorf("value %d of %s is not a Kinesis or Kafka event with records: %s", n, name, eventHint)
		case err != nil:
			return fmt.Errorf("reading event %d of %s: %w", n, name, err)
		}
		kin, kaf, err := speed.ParseEvent(raw)
		if err != nil {
			return fmt.Errorf("value %d of %s is not a Kinesis or Kafka event with records (%w): %s", n, name, err, eventHint)
		}
		if (kin != nil && len(kin.Records) == 0) || (kaf != nil && len(kaf.Records) == 0) {
			return fmt.Errorf("value %d of %s is not a Kinesis or Kafka event with records: %s", n, name, eventHint)
		}
		if kaf != nil {
			p.handleKafka(ctx, *kaf)
			continue
		}
		if _, err := p.Handle(ctx, *kin); err != nil {
			return err
		}
	}
}

// handleKafka is Handle for a Kafka event.
func (p *speedPrinter) handleKafka(ctx context.Context, ev speed.KafkaEvent) {
	res := p.h.ProcessKafka(ctx, ev)
	p.addKafka(&res)
}

// addKafka prints one Kafka invocation and adds it to the totals.
func (p *speedPrinter) addKafka(res *speed.Result) {
	p.add(res)
	for _, f := range res.KafkaFailures {
		p.totals.failed = append(p.totals.failed, fmt.Sprintf("invocation %d: retry partition %s from offset %d",
			p.totals.invocations, f.ItemIdentifier.Partition, f.ItemIdentifier.Offset))
	}
}

// finish prints the totals and returns err, or an error naming the
// invocations whose objects were not all written.
func (p *speedPrinter) finish(err error) error {
	t := &p.totals
	fmt.Fprintf(p.w, "total: %d invocations, %d records (%d user records): %d events, %d duplicates, %d invalid%s; %d objects, %d rows\n",
		t.invocations, t.records, t.userRecords, t.events, t.duplicates, speedSum(t.invalid), speedReasons(t.invalid), t.objects, t.rows)
	if err != nil {
		return err
	}
	if len(t.failed) > 0 {
		return fmt.Errorf("speed objects not written (%s)", strings.Join(t.failed, "; "))
	}
	return nil
}

func printSpeedInvocation(w io.Writer, n int, res *speed.Result) {
	fmt.Fprintf(w, "invocation %d: %d records (%d user records): %d events, %d duplicates, %d invalid%s\n",
		n, res.Records, res.UserRecords, res.Events, res.Duplicates, res.InvalidTotal(), speedReasons(res.Invalid))
	for _, o := range res.Objects {
		fmt.Fprintf(w, "  wrote %s: %d rows, %d events, value_sum %g, %d bytes\n", o.Key, o.Rows, o.Events, o.ValueSum, o.Bytes)
	}
	for _, o := range res.Failed {
		fmt.Fprintf(w, "  NOT written %s: %v\n", o.Key, o.Err)
	}
}

func speedSum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// speedReasons formats counts by reason as " (a 1, b 2)", or "" when none.
func speedReasons(m map[string]int) string {
	var keys []string
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
