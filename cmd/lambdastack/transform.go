package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

func init() {
	register(&command{
		name:    "transform",
		summary: "run the Firehose transform on a Firehose event (like sam local invoke)",
		usage: `Reads a Firehose processing event (JSON, as Firehose sends it to the transform Lambda),
runs the same handler the Lambda runs, and prints the response JSON: every recordId once,
valid events Ok with partition keys route=events/dt/hour, rejected ones Ok as an error
envelope routed to errors/<reason>/, undecodable ones ProcessingFailed. Needs nothing else.

  lambdastack generate --events 20000 --bad-ratio 0.02 --format firehose | lambdastack transform`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			file := fs.String("event", "-", "Firehose event JSON file (- for stdin)")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) > 0 {
					return usagef("unexpected arguments %q", args)
				}
				var in io.Reader = env.stdin
				if *file != "-" {
					f, err := os.Open(*file)
					if err != nil {
						return fmt.Errorf("opening the event: %w", err)
					}
					defer f.Close()
					in = f
				}
				payload, err := io.ReadAll(in)
				if err != nil {
					return fmt.Errorf("reading the event %s: %w", *file, err)
				}
				out, err := (&transform.Handler{}).Invoke(ctx, payload)
				if err != nil {
					return err
				}
				if _, err := env.stdout.Write(append(out, '\n')); err != nil {
					return fmt.Errorf("writing the response: %w", err)
				}
				return nil
			}
		},
	})
}
