package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/queries"
	athenarun "github.com/lambdastack/lambdastack/queries/athena"
	"github.com/lambdastack/lambdastack/queries/local"
)

// paramFlag collects repeated --param k=v.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }

func (p paramFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return errors.New("want name=value")
	}
	p[strings.TrimSpace(k)] = v
	return nil
}

type queryOptions struct {
	params    paramFlag
	local     string
	stage     string
	workgroup string
	database  string
	output    string
	format    string
}

func init() {
	register(&command{
		name:    "query",
		summary: "run a named Athena query on Athena, or locally on DuckDB (--local DIR)",
		usage: `Runs one of the named queries in queries/*.sql and prints the result as a table (or CSV).
Without a name it lists the queries and their parameters.

On Athena (the default) it starts the query in the stage's workgroup and database, passes the
parameters as execution parameters, polls until it ends and reads every page of results. It
needs AWS access from the standard configuration (profile, region, AWS_ENDPOINT_URL).
With --local DIR it runs the same SQL on an embedded DuckDB over local files laid out as the
buckets are (DIR/raw holding events/ and errors/, DIR/views holding batch/, speed/, merged/;
lambdastack demo writes exactly that), no AWS needed.

  lambdastack query top_event_types --local demo-out
  lambdastack query raw_events_hour --param dt=2026-11-22 --param hour=7 --local demo-out
  lambdastack query rejected_by_reason --stage prod`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			o := queryOptions{params: paramFlag{}}
			fs.Var(o.params, "param", "a query parameter as name=value (repeatable)")
			fs.StringVar(&o.local, "local", "", "run on DuckDB over this directory instead of Athena")
			fs.StringVar(&o.stage, "stage", "dev", "deployment stage: picks workgroup lambdastack-STAGE and database lambdastack_STAGE")
			fs.StringVar(&o.workgroup, "workgroup", "", "Athena workgroup (default from --stage)")
			fs.StringVar(&o.database, "database", "", "Glue database (default from --stage)")
			fs.StringVar(&o.output, "output-location", "", "s3:// location for results, when the workgroup does not enforce one")
			fs.StringVar(&o.format, "format", "table", "output format: table or csv")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) == 0 {
					return listQueries(env)
				}
				name := args[0]
				// Flags may follow the query name.
				if err := fs.Parse(args[1:]); err != nil {
					return flagUsage(err)
				}
				if fs.NArg() > 0 {
					return usagef("unexpected arguments %q", fs.Args())
				}
				if o.format != "table" && o.format != "csv" {
					return usagef("--format %q: want table or csv", o.format)
				}
				q, err := queries.Get(name)
				if err != nil {
					return usagef("%v", err)
				}
				vals, err := q.Bind(o.params, time.Now())
				if err != nil {
					return usagef("%v", err)
				}
				var res *queries.Result
				if o.local != "" {
					res, err = runLocal(ctx, o.local, q, vals)
				} else {
					res, err = runAthena(ctx, o, q, vals)
				}
				if err != nil {
					return err
				}
				if o.format == "csv" {
					err = res.WriteCSV(env.stdout)
				} else {
					err = res.WriteTable(env.stdout)
				}
				if err == nil && q.Limit > 0 && len(res.Rows) >= q.Limit {
					fmt.Fprintf(env.stderr, "lambdastack query: the result stops at the query's LIMIT %d, so there may be more rows: "+
						"narrow the parameters, or run queries/%s.sql without its LIMIT (Athena console, or duckdb over the demo files)\n", q.Limit, q.Name)
				}
				return err
			}
		},
	})
}

func listQueries(env *cliEnv) error {
	all, err := queries.All()
	if err != nil {
		return err
	}
	for _, q := range all {
		fmt.Fprintf(env.stdout, "%s\n    %s\n", q.Name, q.Description)
		for _, p := range q.Params {
			if p.Again {
				continue
			}
			typ := p.Type
			if p.Choices != nil {
				typ += " " + strings.Join(p.Choices, "|")
			}
			if p.Default != "" {
				typ += ", default " + p.Default
			}
			fmt.Fprintf(env.stdout, "    --param %s=… (%s) %s\n", p.Name, typ, p.Description)
		}
	}
	return nil
}

func runLocal(ctx context.Context, dir string, q queries.Query, vals []queries.Value) (*queries.Result, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("--local %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("--local %s is not a directory", dir)
	}
	dirs := local.DirsUnder(dir)
	r, err := local.Open(ctx, dirs)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	files := 0
	for _, n := range r.Files {
		files += n
	}
	if files == 0 {
		return nil, fmt.Errorf("no data under --local %s: expected raw events under %s and views (batch/, speed/, merged/) under %s, as `lambdastack demo --dir %s` writes them",
			dir, filepath.Join(dirs.Raw, "events"), dirs.Views, dir)
	}
	return r.Run(ctx, q, vals)
}

func runAthena(ctx context.Context, o queryOptions, q queries.Query, vals []queries.Value) (*queries.Result, error) {
	cfg, err := awscfg.Load(ctx, awscfg.Options{})
	if err != nil {
		return nil, err
	}
	if err := cfg.CheckCredentials(ctx); err != nil {
		return nil, err
	}
	wg, db := o.workgroup, o.database
	if wg == "" {
		wg = "lambdastack-" + o.stage
	}
	if db == "" {
		db = "lambdastack_" + strings.ReplaceAll(o.stage, "-", "_")
	}
	r := &athenarun.Runner{API: athena.NewFromConfig(cfg.AWS), WorkGroup: wg, Database: db, OutputLocation: o.output}
	return r.Run(ctx, q, vals)
}
