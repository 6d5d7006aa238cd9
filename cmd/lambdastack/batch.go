package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/batch/batchsql"
	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/storage"
)

func init() {
	register(&command{
		name:    "batch",
		summary: "build the batch view (hour and day) from raw events, up to the watermark",
		usage: `Reads raw events under --raw (events/dt=…/hour=…/, gzip or plain NDJSON and
Parquet), deduplicates them exactly by event_id within each hour, and writes the
batch view to --out (batch/granularity=hour|day/dt=…/, Parquet), then publishes
batch/_manifest.json. The watermark is the end of the last hour closed for longer
than --lateness; hours from it on are left to the speed layer. A rerun rebuilds
only hours whose raw objects changed since the manifest (late data) and is a
no-op otherwise (--rebuild rebuilds every hour); a run that dies part-way leaves
the published view intact and the next run finishes the job. Objects are staged
under batch/_staging/<run>/ and the manifest is committed conditionally: when two
runs race, one publishes and the other prints "another run committed first" and
exits 0, leaving the store as the winner made it. Bad records are counted by
reason, never fatal.
Locations are directories or s3://bucket/prefix (standard AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			var (
				raw      = fs.String("raw", "", "raw events location (required)")
				out      = fs.String("out", "", "views location (required)")
				from     = fs.String("from", "", "first hour to consider (RFC 3339, YYYY-MM-DDTHH or YYYY-MM-DD); default: all")
				to       = fs.String("to", "", "consider hours before this time only; default: the watermark")
				lateness = fs.Duration("lateness", batch.DefaultLateness, "how long after an hour closes the batch waits before taking it")
				workers  = fs.Int("workers", 0, "decoding and aggregation workers (default: the number of CPUs)")
				quiet    = fs.Bool("quiet", false, "no progress lines, only the summary")
				rebuild  = fs.Bool("rebuild", false, "rebuild every hour from raw, even unchanged ones (after an upgrade that changes the view format; the next merge rewrites its days)")
				engine   = fs.String("engine", batch.EngineGo, "batch engine: go (in process), sql (the view's SQL on embedded DuckDB) or athena (the SQL as UNLOADs on Athena)")
				wg       = fs.String("workgroup", "", "athena engine: the Athena workgroup (required with --engine athena)")
				database = fs.String("database", "", "athena engine: the Glue database holding raw_events (required with --engine athena)")
				staging  = fs.String("staging", "", "athena engine: s3://bucket/prefix the UNLOADs write under (required with --engine athena)")
			)
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if err := required(map[string]string{"--raw": *raw, "--out": *out}); err != nil {
					return err
				}
				defer batch.SetBuildGC()()
				b := &batch.Builder{Now: clock, Lateness: *lateness, Workers: *workers, Rebuild: *rebuild}
				var err error
				if *from != "" {
					if b.From, err = parseStart(*from); err != nil {
						return usagef("--from: %v", err)
					}
				}
				if *to != "" {
					if b.To, err = parseStart(*to); err != nil {
						return usagef("--to: %v", err)
					}
				}
				if b.Raw, err = openStore(ctx, *raw); err != nil {
					return err
				}
				if b.Out, err = openStore(ctx, *out); err != nil {
					return err
				}
				if !*quiet {
					b.Progress = batch.NewProgress(env.stderr, time.Now)
				}
				var sum *batch.Summary
				switch *engine {
				case batch.EngineGo:
					sum, err = b.Run(ctx)
				case "sql":
					b.Engine = &batchsql.Engine{Raw: b.Raw}
					sum, err = b.Run(ctx)
				case batch.EngineAthena:
					if *wg == "" || *database == "" || !strings.HasPrefix(*staging, "s3://") {
						return usagef("--engine athena needs --workgroup, --database and --staging s3://bucket/prefix")
					}
					cfg, err := awscfg.Load(ctx, awscfg.Options{})
					if err != nil {
						return err
					}
					st, err := storage.OpenWith(ctx, *staging, &cfg)
					if err != nil {
						return err
					}
					a := &batch.Athena{Client: cfg.Athena(), Workgroup: *wg, Database: *database, Staging: st}
					sum, err = a.BuildRun(ctx, b)
					if err != nil {
						return err
					}
				default:
					return usagef("--engine %q: want go, sql or athena", *engine)
				}
				if err != nil {
					return err
				}
				if err := printBatchSummary(env.stdout, sum); err != nil {
					return err
				}
				if sum.Unpublished != "" {
					_, err = fmt.Fprintf(env.stdout, "  %s\n", sum.Unpublished)
				}
				return err
			}
		},
	})
}

// required returns a usage error naming the flags (by name, in flag order)
// whose value is empty, or nil.
func required(flags map[string]string) error {
	var missing []string
	for _, name := range slices.Sorted(maps.Keys(flags)) {
		if flags[name] == "" {
			missing = append(missing, name)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usagef("%s is required", missing[0])
	}
	return usagef("%s and %s are required", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
}

func printBatchSummary(w io.Writer, s *batch.Summary) error {
	mbs := 0.0
	if s.Elapsed > 0 {
		mbs = float64(s.Bytes) / 1e6 / s.Elapsed.Seconds()
	}
	if s.Status == batch.StatusLostRace {
		_, err := fmt.Fprintf(w, "batch run %s: another run committed first; this one left the batch view as that run published it\n", s.Run)
		return err
	}
	fmt.Fprintf(w, "batch run %s: watermark %s\n", s.Run, s.Watermark.Format(time.RFC3339))
	fmt.Fprintf(w, "  hours rebuilt %d, days published %d %v\n", len(s.Hours), len(s.Days), s.Days)
	fmt.Fprintf(w, "  objects %d, %.1f MB in %s (%.1f MB/s)\n", s.Objects, float64(s.Bytes)/1e6, s.Elapsed.Round(time.Millisecond), mbs)
	fmt.Fprintf(w, "  records %d: valid %d, duplicates %d", s.Rows, s.Valid, s.Duplicates)
	for _, r := range slices.Sorted(maps.Keys(s.Bad)) {
		fmt.Fprintf(w, ", %s %d", r, s.Bad[r])
	}
	_, err := fmt.Fprintln(w)
	if len(s.Skipped) > 0 {
		_, err = fmt.Fprintf(w, "  skipped %d raw objects outside events/dt=…/hour=…/, e.g. %s\n", len(s.Skipped), s.Skipped[0])
	}
	return err
}
