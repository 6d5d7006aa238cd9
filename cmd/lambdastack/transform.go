package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

// firehoseEventHint says what --event holds.
const firehoseEventHint = `expected Firehose processing event JSON, {"records":[{"recordId":…,"data":…},…]}, ` +
	"one or more, as `lambdastack generate --format firehose` writes (NDJSON events go to `validate` or `generate`)"

func init() {
	register(&command{
		name:    "transform",
		summary: "run the Firehose transform on a Firehose event (like sam local invoke)",
		usage: `Reads Firehose processing events (JSON, as Firehose sends them to the transform Lambda;
several may follow one another, as generate --format firehose writes them), runs the same
handler the Lambda runs on each, and prints one response JSON per line: every recordId once,
valid events Ok with partition keys route=events/dt/hour, rejected ones Ok as an error
envelope routed to errors/<reason>/, undecodable ones ProcessingFailed. Events from a
Kinesis source (records with data) and from an MSK source (kafkaRecordValue and
mskRecordMetadata, answered in kafkaRecordValue; a null value goes to errors/tombstone/)
are both taken. Needs nothing else.

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
				h := &transform.Handler{ReuseResponse: true}
				objs := newObjectReader(in)
				name := *file
				if name == "-" {
					name = "stdin"
				}
				for n := 1; ; n++ {
					// Each event is guessed to be one line (see nextLine):
					// the handler, which checks the syntax, confirms it.
					payload, guess, err := objs.nextLine()
					var out []byte
					if guess {
						if out, err = h.Invoke(ctx, payload); err != nil {
							if ctx.Err() != nil {
								return ctx.Err()
							}
							payload, err = objs.again()
						}
					}
					if err == io.EOF && n > 1 {
						break
					}
					switch {
					case err == io.EOF:
						return fmt.Errorf("no Firehose events in %s: %s", name, firehoseEventHint)
					case errors.Is(err, errNotObject):
						return fmt.Errorf("value %d of %s is not a Firehose event with records: %s", n, name, firehoseEventHint)
					case err != nil:
						return fmt.Errorf("reading event %d of %s: %w", n, name, err)
					}
					if out == nil {
						// The handler checks the event's syntax as it reads it.
						out, err = h.Invoke(ctx, payload)
					}
					if err != nil {
						if ctx.Err() != nil {
							return ctx.Err()
						}
						return fmt.Errorf("value %d of %s is not a Firehose event with records (%w): %s", n, name, err, firehoseEventHint)
					}
					if string(out) == `{"records":[]}` {
						return fmt.Errorf("value %d of %s is not a Firehose event with records: %s", n, name, firehoseEventHint)
					}
					// Straight to stdout: a response is megabytes, which
					// a buffer would only copy.
					if _, err := env.stdout.Write(append(out, '\n')); err != nil {
						return fmt.Errorf("writing the response: %w", err)
					}
				}
				return nil
			}
		},
	})
}
