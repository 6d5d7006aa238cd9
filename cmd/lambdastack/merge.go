package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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
read, so it is cheap to run every few minutes. --speed defaults to --batch (one views
location, as the deployed stack has); a speed location without any speed/ object is
an error unless --no-speed says to merge the batch view alone. With each day it writes the users
view (users/granularity=hour|day/dt=…/): distinct users per event type, per source
and overall, from the merged rows' sketches. The three locations may be the
same; each is a directory or s3://bucket/prefix (standard AWS configuration).`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			var (
				batchLoc = fs.String("batch", "", "views location holding batch/ (required)")
				speedLoc = fs.String("speed", "", "views location holding speed/ (default: --batch)")
				out      = fs.String("out", "", "views location to write merged/ to (default: --batch)")
				noSpeed  = fs.Bool("no-speed", false, "merge the batch view alone: read no speed objects")
			)
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				if *batchLoc == "" {
					return usagef("--batch is required")
				}
				speedFrom := "--speed"
				if *noSpeed && *speedLoc != "" {
					return usagef("--speed and --no-speed exclude each other")
				}
				if *speedLoc == "" {
					*speedLoc, speedFrom = *batchLoc, "--speed defaults to --batch"
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
					if *p.dst, err = openStore(ctx, p.loc); err != nil {
						return err
					}
				}
				if *noSpeed {
					m.Speed = emptyStore{}
				} else {
					m.RequireSpeed = speedFrom
				}
				s, err := m.Run(ctx)
				if errors.Is(err, batch.ErrNoSpeedObjects) {
					return fmt.Errorf("%w; pass --no-speed to merge the batch view alone", err)
				}
				if err != nil {
					return err
				}
				if s.Status == batch.StatusLostRace {
					_, err = fmt.Fprintln(env.stdout, "merge: another run committed first; this one left the serving view as that run published it")
					return err
				}
				_, err = fmt.Fprintf(env.stdout, "merge: watermark %s, days written %d %v, rows %d hour + %d day (+ %d users), read %d speed objects from %s and %d batch objects\n",
					s.Watermark.Format(time.RFC3339), len(s.Days), s.Days, s.HourRows, s.DayRows, s.UserRows, s.SpeedObjects, m.Speed.Location(), s.BatchObjects)
				return err
			}
		},
	})
}

// emptyStore is the speed location of --no-speed: it holds nothing.
type emptyStore struct{}

func (emptyStore) Put(context.Context, string, []byte) error {
	return errors.New("the --no-speed location is read-only")
}
func (emptyStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s: %w", key, storage.ErrNotExist)
}
func (emptyStore) List(context.Context, string) ([]storage.ObjectInfo, error) { return nil, nil }
func (emptyStore) Delete(context.Context, string) error                       { return nil }
func (emptyStore) Location() string                                           { return "(--no-speed)" }
