package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/storage"
)

func init() {
	register(&command{
		name:    "merge",
		summary: "merge the batch and speed views into the serving view at the batch watermark",
		usage: `Writes the serving view to --out (merged/granularity=hour|day/dt=…/, Parquet,
published with merged/_manifest.json): batch rows for windows before the batch
watermark (read from --batch's batch/_manifest.json), speed rows from it on
(speed objects of a key merged, a redelivered event counted once by its
fingerprint). The day holding the watermark combines both. Only days that can
have changed are rewritten and only speed partitions from the watermark on are
read, so it is cheap to run every few minutes. With each day it writes the users
view (users/granularity=hour|day/dt=…/): distinct users per event type, per source
and overall, from the merged rows' sketches. The three locations may be the
same; each is a directory or s3://bucket/prefix (standard AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			var (
				batchLoc = fs.String("batch", "", "views location holding batch/ (required)")
				speedLoc = fs.String("speed", "", "views location holding speed/ (default: --batch)")
				out      = fs.String("out", "", "views location to write merged/ to (default: --batch)")
			)
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *batchLoc == "" {
					return usagef("--batch is required")
				}
				if *speedLoc == "" {
					*speedLoc = *batchLoc
				}
				if *out == "" {
					*out = *batchLoc
				}
				m := &batch.Merger{Now: clock}
				var err error
				for _, p := range []struct {
					dst *storage.Store
					loc string
				}{{&m.Batch, *batchLoc}, {&m.Speed, *speedLoc}, {&m.Out, *out}} {
					if *p.dst, err = storage.Open(ctx, p.loc); err != nil {
						return err
					}
				}
				s, err := m.Run(ctx)
				if err != nil {
					return err
				}
				if s.Status == batch.StatusLostRace {
					_, err = fmt.Fprintln(env.stdout, "merge: another run committed first; this one left the serving view as that run published it")
					return err
				}
				_, err = fmt.Fprintf(env.stdout, "merge: watermark %s, days written %d %v, rows %d hour + %d day (+ %d users), read %d speed and %d batch objects\n",
					s.Watermark.Format(time.RFC3339), len(s.Days), s.Days, s.HourRows, s.DayRows, s.UserRows, s.SpeedObjects, s.BatchObjects)
				return err
			}
		},
	})
}
