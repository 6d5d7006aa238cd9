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

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

func init() {
	register(&command{
		name:    "speed",
		summary: "run the speed-layer handler on Kinesis event JSON and write the speed view",
		usage: `Runs the speed Lambda's handler on Kinesis events (the JSON an event source
mapping sends the function; "lambdastack generate --format kinesis" writes one per
line) read from --event or stdin, one invocation per event, and writes one Parquet
object per hour and shard batch under speed/dt=YYYY-MM-DD/hour=HH/ in --out.
The object keys and bytes depend only on the batch: running the same events again
overwrites the same objects. Prints what each invocation did and the totals;
invalid records are counted by reason and skipped.

Needs --out: a directory or s3://bucket/prefix (AWS access from the standard
AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			eventFile := fs.String("event", "", "file of Kinesis event JSON, one or more events (default: stdin)")
			out := fs.String("out", "", "views location: a directory or s3://bucket/prefix (required)")
			metrics := fs.Bool("metrics", false, "also print the CloudWatch Embedded Metric Format lines the Lambda would log, to stderr")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *out == "" {
					return usagef("--out is required")
				}
				in := env.stdin
				if *eventFile != "" {
					f, err := os.Open(*eventFile)
					if err != nil {
						return fmt.Errorf("opening event file: %w", err)
					}
					defer f.Close()
					in = f
				}
				st, err := storage.Open(ctx, *out)
				if err != nil {
					return err
				}
				h := &speed.Handler{Store: st, Log: env.stderr}
				if *metrics {
					h.Metrics = env.stderr
				}
				return runSpeed(ctx, env.stdout, h, in)
			}
		},
	})
}

// speedTotals adds up the invocations of one run.
type speedTotals struct {
	invocations, records, userRecords, events, duplicates int
	invalid                                               map[string]int
	objects                                               int
	rows                                                  int
	viewEvents                                            int64
	failed                                                []string
}

func runSpeed(ctx context.Context, w io.Writer, h *speed.Handler, in io.Reader) error {
	dec := json.NewDecoder(in)
	t := speedTotals{invalid: map[string]int{}}
	for {
		var ev events.KinesisEvent
		if err := dec.Decode(&ev); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return fmt.Errorf("reading Kinesis event %d: %w", t.invocations+1, err)
		}
		t.invocations++
		res := h.Process(ctx, ev)
		printInvocation(w, t.invocations, &res)
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
			t.viewEvents += o.Events
		}
		for _, f := range res.Failures {
			t.failed = append(t.failed, fmt.Sprintf("event %d: retry from sequence number %s", t.invocations, f.ItemIdentifier))
		}
	}
	fmt.Fprintf(w, "total: %d invocations, %d records (%d user records): %d events, %d duplicates, %d invalid%s; %d objects, %d rows\n",
		t.invocations, t.records, t.userRecords, t.events, t.duplicates, sum(t.invalid), reasons(t.invalid), t.objects, t.rows)
	if len(t.failed) > 0 {
		return fmt.Errorf("speed objects not written (%s)", strings.Join(t.failed, "; "))
	}
	return nil
}

func printInvocation(w io.Writer, n int, res *speed.Result) {
	fmt.Fprintf(w, "event %d: %d records (%d user records): %d events, %d duplicates, %d invalid%s\n",
		n, res.Records, res.UserRecords, res.Events, res.Duplicates, res.InvalidTotal(), reasons(res.Invalid))
	for _, o := range res.Objects {
		fmt.Fprintf(w, "  wrote %s: %d rows, %d events, value_sum %g, %d bytes\n", o.Key, o.Rows, o.Events, o.ValueSum, o.Bytes)
	}
	for _, o := range res.Failed {
		fmt.Fprintf(w, "  NOT written %s: %v\n", o.Key, o.Err)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reasons formats counts by reason as " (a 1, b 2)", or "" when none.
func reasons(m map[string]int) string {
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
