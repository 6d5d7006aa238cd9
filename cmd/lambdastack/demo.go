package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/dashboard"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/queries"
	"github.com/lambdastack/lambdastack/queries/local"
	"github.com/lambdastack/lambdastack/streaming"
)

// demoMarker marks a directory the demo wrote, so a rerun may clear it.
const demoMarker = ".lambdastack-demo"

type demoOptions struct {
	stream                string // "kinesis" or "kafka"
	events, hours, shards int
	seed                  uint64
	dir                   string
	now                   func() time.Time
}

func init() {
	register(&command{
		name:    "demo",
		summary: "run the whole pipeline on this machine and write a report and a dashboard",
		usage: `Runs the lambda architecture end to end on this machine, with no AWS account and no server:
generates a few hours of events up to now (with duplicates, late and bad events), puts them on an
in-process stream with several shards, plays Firehose (the transform Lambda's handler) into a
local raw store, runs the speed Lambda's handler over every shard into speed views, builds the
batch view over the closed hours, merges the two into the serving view, runs the named Athena
queries on an embedded DuckDB and draws dashboard.html from their results.

Prints a report (generated / accepted / quarantined by reason, rows per layer, the watermark)
and a reconciliation of the merged view, read back from disk, against the generated events;
exits non-zero when they disagree. Everything goes under --dir:
  raw/ (events/, errors/), views/ (batch/, speed/, merged/, users/), queries/*.txt, report.txt,
  dashboard.html
A rerun clears what an earlier demo wrote there.

--stream kafka runs the same pipeline over Kafka instead of the in-process Kinesis-like stream:
an in-process Kafka cluster (kfake) with one partition per --shards, the real Kafka producer,
a consumer group feeding the speed handler Kafka events as the MSK event source mapping would,
and the transform fed Firehose-from-MSK events; the reconciliation is the same.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			o := demoOptions{now: time.Now}
			fs.IntVar(&o.events, "events", 50000, "records to generate, bad and duplicate ones included")
			fs.IntVar(&o.hours, "hours", 6, "hours of arrivals, ending now")
			fs.IntVar(&o.shards, "shards", 4, "shards (Kafka: partitions) of the in-process stream")
			fs.StringVar(&o.stream, "stream", "kinesis", "the in-process stream: kinesis or kafka")
			fs.Uint64Var(&o.seed, "seed", 1, "random seed of the generator")
			fs.StringVar(&o.dir, "dir", "demo-out", "directory for everything the demo writes")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if o.events < 1 || o.hours < 1 || o.shards < 1 {
					return usagef("--events, --hours and --shards must be at least 1")
				}
				if o.stream != "kinesis" && o.stream != "kafka" {
					return usagef("--stream %q: want kinesis or kafka", o.stream)
				}
				run, err := runDemo(ctx, env, o)
				if err != nil {
					return err
				}
				if !run.report.Reconciled.OK() {
					return fmt.Errorf("reconciliation failed: %s", run.report.Reconciled.Problems[0])
				}
				return nil
			}
		},
	})
}

// prepareDemoDir makes dir ready: created when missing, cleared when an
// earlier demo wrote it, refused when it holds anything else.
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("reading demo directory %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("%s is not empty and was not written by lambdastack demo: choose another --dir", dir)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("clearing the earlier demo in %s: %w", dir, err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating demo directory %s: %w", dir, err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("written by lambdastack demo; a rerun clears this directory\n"), 0o644)
}

// demoRun is what a demo produced.
type demoRun struct {
	now     time.Time
	report  *pipeline.Report
	results map[string]*queries.Result
	page    string // dashboard.html
}

func runDemo(ctx context.Context, env *cliEnv, o demoOptions) (*demoRun, error) {
	start := time.Now()
	if err := prepareDemoDir(o.dir); err != nil {
		return nil, err
	}
	rawDir, viewsDir := filepath.Join(o.dir, "raw"), filepath.Join(o.dir, "views")
	raw, err := storage.NewLocal(rawDir)
	if err != nil {
		return nil, err
	}
	vs, err := storage.NewLocal(viewsDir)
	if err != nil {
		return nil, err
	}
	now := o.now().UTC()
	users := max(10, o.events/20)
	stream := streaming.NewMemStream(o.shards)
	// Records arrive on the stream at the run's now: the transform stamps
	// it as received_time, so events up to now are not in the future.
	stream.Now = func() time.Time { return now }
	var (
		sink   streaming.Sink   = stream
		source streaming.Source = stream
		kafka  *pipeline.Kafka
	)
	if o.stream == "kafka" {
		k, err := startDemoKafka(ctx, o.shards, now)
		if err != nil {
			return nil, err
		}
		defer k.close()
		sink, source, kafka = k.sink, k.source, &pipeline.Kafka{Config: k.cfg, Group: "speed"}
	}
	cfg := pipeline.Config{
		Gen: gen.Config{Seed: o.seed, Events: o.events, Start: now.Add(-time.Duration(o.hours) * time.Hour), Hours: o.hours,
			Users: users, Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.02, DupRatio: 0.03, LateRatio: 0.03},
		Now:         now,
		Lateness:    15 * time.Minute,
		Stream:      "demo",
		Sink:        sink,
		Source:      source,
		Kafka:       kafka,
		BufferBytes: 1 << 20,
		ReadLimit:   1000,
		Raw:         raw,
		Views:       vs,
		Log:         env.stderr,
	}
	fmt.Fprintf(env.stderr, "demo: %d records over the %d hours before %s, %s stream of %d shards, into %s\n",
		o.events, o.hours, now.Format("2006-01-02 15:04 UTC"), cmp.Or(o.stream, "kinesis"), o.shards, o.dir)
	rep, err := pipeline.Run(ctx, cfg)
	if err != nil {
		return nil, err
	}

	// The serving side: the named queries on DuckDB, then the dashboard.
	results, err := demoQueries(ctx, o.dir, rawDir, viewsDir, now)
	if err != nil {
		return nil, err
	}
	lines := rep.Lines()
	page := filepath.Join(o.dir, "dashboard.html")
	f, err := os.Create(page)
	if err != nil {
		return nil, fmt.Errorf("writing the dashboard: %w", err)
	}
	err = dashboard.Render(f, dashboard.Data{Title: "lambdastack demo", Generated: now, Results: results, Summary: lines})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the dashboard %s: %w", page, err)
	}
	report := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(o.dir, "report.txt"), []byte(report), 0o644); err != nil {
		return nil, fmt.Errorf("writing the report: %w", err)
	}
	io.WriteString(env.stdout, report)
	fmt.Fprintf(env.stdout, "\noutputs in %s (%.1fs):\n  %s  the dashboard (open it in a browser)\n  %s  this report\n  %s  the named queries' results\n  %s, %s  raw and view stores\n  try: bin/lambdastack query top_event_types --local %s\n",
		o.dir, time.Since(start).Seconds(), page, filepath.Join(o.dir, "report.txt"), filepath.Join(o.dir, "queries")+"/",
		rawDir+"/", viewsDir+"/", o.dir)
	return &demoRun{now: now, report: rep, results: results, page: page}, nil
}

// demoQueries runs every named query over the demo's stores, writes each
// result to DIR/queries/NAME.txt and returns them by name. The drill-down
// shows the newest hour the batch layer closed.
func demoQueries(ctx context.Context, dir, rawDir, viewsDir string, now time.Time) (map[string]*queries.Result, error) {
	r, err := local.Open(ctx, local.Dirs{Raw: rawDir, Views: viewsDir})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	all, err := queries.All()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "queries"), 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", filepath.Join(dir, "queries"), err)
	}
	drill := now.Add(-time.Hour).Truncate(time.Hour)
	params := map[string]map[string]string{
		"raw_events_hour": {"dt": drill.Format("2006-01-02"), "hour": drill.Format("15")},
		// The demo's newest day is today: count it, so far, and the days
		// before it.
		"active_users":    {"day": "today"},
		"active_users_by": {"since": "today-6", "until": "today"},
	}
	out := map[string]*queries.Result{}
	for _, q := range all {
		vals, err := q.Bind(params[q.Name], now)
		if err != nil {
			return nil, err
		}
		res, err := r.Run(ctx, q, vals)
		if err != nil {
			return nil, err
		}
		out[q.Name] = res
		var b strings.Builder
		fmt.Fprintf(&b, "-- %s: %s\n", q.Name, q.Description)
		for _, v := range vals {
			if v.Param.Again {
				continue
			}
			fmt.Fprintf(&b, "-- %s = %s\n", v.Param.Name, v.Literal)
		}
		if err := res.WriteTable(&b); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, "queries", q.Name+".txt")
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
	}
	return out, nil
}
