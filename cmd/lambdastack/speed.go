package main

import (
	"context"
	"encoding/json"
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
		summary: "run the speed-layer handler on Kinesis event JSON or a Kinesis stream and write the speed view",
		usage: `Runs the speed Lambda's handler and writes one Parquet object per hour and shard
batch under speed/dt=YYYY-MM-DD/hour=HH/ in --out.

Without --stream it reads Kinesis events (the JSON an event source mapping sends the
function; "lambdastack generate --format kinesis" writes one per line) from --event
or stdin, one invocation per event. The object keys and bytes depend only on the
batch: running the same events again overwrites the same objects.

With --stream it plays the event source mapping: it reads every shard of that
Kinesis stream (AWS, or an emulator through AWS_ENDPOINT_URL) in batches of
--batch-size records, retries a batch from the record the handler names, and keeps
its shard positions in --out under _checkpoints/speed/. It stops when the stream
has nothing new, or runs until interrupted with --follow.

Prints what each invocation did and the totals; invalid records are counted by
reason and skipped. Needs --out: a directory or s3://bucket/prefix (AWS access from
the standard AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			eventFile := fs.String("event", "", "file of Kinesis event JSON, one or more events (default: stdin)")
			out := fs.String("out", "", "views location: a directory or s3://bucket/prefix (required)")
			stream := fs.String("stream", "", "read this Kinesis stream instead of event JSON")
			batchSize := fs.Int("batch-size", 100, "with --stream: most records per invocation")
			follow := fs.Bool("follow", false, "with --stream: keep reading until interrupted")
			metrics := fs.Bool("metrics", false, "also print the CloudWatch Embedded Metric Format lines the Lambda would log, to stderr")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *out == "" {
					return usagef("--out is required")
				}
				if *stream != "" && *eventFile != "" {
					return usagef("--event and --stream exclude each other")
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
	t := &p.totals
	t.invocations++
	printSpeedInvocation(p.w, t.invocations, &res)
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
	for _, f := range res.Failures {
		t.failed = append(t.failed, fmt.Sprintf("invocation %d: retry from sequence number %s", t.invocations, f.ItemIdentifier))
	}
	return events.KinesisEventResponse{BatchItemFailures: res.Failures}, nil
}

// kinesisEventHint says what --event holds.
const kinesisEventHint = `expected Kinesis event JSON, {"Records":[{"kinesis":{"data":…,"partitionKey":…,"sequenceNumber":…},…}]}, ` +
	"one or more, as `lambdastack generate --format kinesis` writes (NDJSON events go to `produce` or `generate`)"

// readEvents invokes the handler once per Kinesis event JSON value in in
// (named name in messages); no event, or one without records, is an error.
func (p *speedPrinter) readEvents(ctx context.Context, in io.Reader, name string) error {
	dec := json.NewDecoder(in)
	for {
		var ev events.KinesisEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				if p.totals.invocations == 0 {
					return fmt.Errorf("no Kinesis events in %s: %s", name, kinesisEventHint)
				}
				return nil
			}
			return fmt.Errorf("reading Kinesis event %d of %s: %w", p.totals.invocations+1, name, err)
		}
		if len(ev.Records) == 0 {
			return fmt.Errorf("value %d of %s is not a Kinesis event with records: %s", p.totals.invocations+1, name, kinesisEventHint)
		}
		if _, err := p.Handle(ctx, ev); err != nil {
			return err
		}
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
