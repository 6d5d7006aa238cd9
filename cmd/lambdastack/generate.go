package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
)

// clock is the wall clock, read once per command; tests replace it.
var clock = time.Now

func init() {
	register(&command{
		name:    "generate",
		summary: "write synthetic events (NDJSON, or as Firehose/Kinesis Lambda events), seeded and reproducible",
		usage: `Writes synthetic events to stdout or --out: one JSON event per line, in arrival
order spread evenly over --hours from --start. The same flags and --seed give the
same bytes (pass --start too: its default moves with the clock).

--bad-ratio adds records the event model rejects, every reason in equal numbers:
` + reasonList() + `.
--dup-ratio repeats a recent good record byte for byte (a redelivery);
--late-ratio gives good events an event_time 10 minutes to 2 hours before their
arrival. What was written is printed to stderr as one JSON line
(counts by rejection reason, duplicates, late events) and to --summary FILE.

--format firehose wraps records as aws-lambda-go KinesisFirehoseEvent JSON, kinesis
as KinesisEvent JSON (partition key user_id, shards by its MD5 like Kinesis), one
event of up to --batch records per line. Needs nothing else: no AWS access.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			var (
				events    = fs.Int("events", 10000, "number of records to write, bad and duplicate ones included")
				seed      = fs.Uint64("seed", 1, "random seed")
				start     = fs.String("start", "", "arrival time of the first record: RFC 3339, YYYY-MM-DDTHH or YYYY-MM-DD, UTC unless an offset is given (default: --hours before the current hour)")
				hours     = fs.Int("hours", 3, "hours the arrivals are spread over")
				users     = fs.Int("users", 10000, "number of distinct user_ids")
				types     = fs.String("types", "8", "event types: a number (the first N of "+strings.Join(gen.DefaultTypes, ",")+", then type_N) or a comma-separated list; earlier ones are more frequent")
				sources   = fs.String("sources", "4", "sources: a number (the first N of "+strings.Join(gen.DefaultSources, ",")+", then source_N) or a comma-separated list")
				badRatio  = fs.Float64("bad-ratio", 0, "share of records the event model rejects, all reasons evenly")
				dupRatio  = fs.Float64("dup-ratio", 0.005, "share of records that repeat a recent good record (same event_id)")
				lateRatio = fs.Float64("late-ratio", 0.02, "share of good events whose event_time is 10m..2h before their arrival")
				format    = fs.String("format", "ndjson", "output format: ndjson, firehose or kinesis")
				batch     = fs.Int("batch", 500, "firehose/kinesis: most records per Lambda event")
				shards    = fs.Int("shards", 1, "firehose/kinesis: number of shards")
				out       = fs.String("out", "", "write to this file instead of stdout")
				summary   = fs.String("summary", "", "also write the summary (JSON) to this file")
			)
			return func(_ context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				now := clock()
				cfg := gen.Config{Seed: *seed, Events: *events, Hours: *hours, Users: *users,
					BadRatio: *badRatio, DupRatio: *dupRatio, LateRatio: *lateRatio}
				var err error
				if cfg.Types, err = gen.Names(*types, gen.DefaultTypes, "type"); err != nil {
					return usagef("--types %v", err)
				}
				if cfg.Sources, err = gen.Names(*sources, gen.DefaultSources, "source"); err != nil {
					return usagef("--sources %v", err)
				}
				if *start == "" {
					cfg.Start = gen.DefaultStart(now, *hours)
				} else if cfg.Start, err = parseStart(*start); err != nil {
					return usagef("--start: %v", err)
				}
				f := gen.Format(*format)
				switch f {
				case gen.NDJSON, gen.Firehose, gen.Kinesis:
				default:
					return usagef("--format %q: want ndjson, firehose or kinesis", *format)
				}
				if end := cfg.Start.Add(time.Duration(cfg.Hours) * time.Hour); end.After(now.Add(event.MaxFutureSkew)) {
					fmt.Fprintf(env.stderr, "lambdastack generate: note: arrivals run until %s, later than now+%s: validated now, those events count as future_time\n",
						end.Format(time.RFC3339), event.MaxFutureSkew)
				}

				w := env.stdout
				var file *os.File
				if *out != "" {
					if file, err = os.Create(*out); err != nil {
						return fmt.Errorf("creating %s: %w", *out, err)
					}
					w = file
				}
				sum, err := gen.Write(w, cfg, f, gen.Envelope{Batch: *batch, Shards: *shards})
				if file != nil {
					if cerr := file.Close(); err == nil && cerr != nil {
						err = fmt.Errorf("closing %s: %w", *out, cerr)
					}
				}
				if err != nil {
					return err
				}
				line, err := json.Marshal(sum)
				if err != nil {
					return fmt.Errorf("encoding summary: %w", err)
				}
				fmt.Fprintf(env.stderr, "%s\n", line)
				if *summary != "" {
					pretty, _ := json.MarshalIndent(sum, "", "  ")
					if err := os.WriteFile(*summary, append(pretty, '\n'), 0o644); err != nil {
						return fmt.Errorf("writing summary %s: %w", *summary, err)
					}
				}
				return nil
			}
		},
	})
}

func reasonList() string {
	var s []string
	for _, r := range event.Reasons() {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// parseStart reads --start: RFC 3339 or a UTC date, optionally with an hour.
func parseStart(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not RFC 3339, YYYY-MM-DDTHH or YYYY-MM-DD", s)
}
