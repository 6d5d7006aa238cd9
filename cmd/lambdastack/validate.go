package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
)

func init() {
	register(&command{
		name:    "validate",
		summary: "check NDJSON events against the event model and count rejections by reason",
		usage: `Reads NDJSON events (from --file, a file argument, or stdin with - or nothing)
and checks each line with the event model, as the Firehose transform does, with
the current time as received_time. Prints the number of records, accepted ones
(and how many of those repeat an earlier event_id) and rejections by reason;
--json prints the same as one JSON object. Empty lines are skipped and counted.
Exit status 1 with --strict when any record is rejected, and with --expect FILE
(a summary written by generate --summary) when the counts differ from it.
Needs no AWS access.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			file := fs.String("file", "", "NDJSON file to check (- or empty: stdin)")
			asJSON := fs.Bool("json", false, "print the report as JSON")
			strict := fs.Bool("strict", false, "exit with status 1 when any record is rejected")
			expect := fs.String("expect", "", "compare the counts with this generate --summary file; exit 1 when they differ")
			examples := fs.Int("examples", 0, "also print up to N rejected records per reason with the detail (not with --json)")
			return func(ctx context.Context, env *cliEnv, args []string) error {
				name := *file
				switch {
				case len(args) > 1, len(args) == 1 && name != "":
					return usagef("give one file, as --file or as an argument")
				case len(args) == 1:
					name = args[0]
				}
				var r io.Reader = env.stdin
				if name != "" && name != "-" {
					f, err := os.Open(name)
					if err != nil {
						return fmt.Errorf("opening events: %w", err)
					}
					defer f.Close()
					r = f
				} else {
					name = "stdin"
				}
				rep, err := validateStream(ctx, r, clock(), *examples)
				if err != nil {
					return fmt.Errorf("validating %s: %w", name, err)
				}
				if rep.Records == 0 {
					return fmt.Errorf("no records in %s: expected NDJSON events, one per line (lambdastack generate writes them)", name)
				}
				if *asJSON {
					data, err := json.Marshal(rep)
					if err != nil {
						return fmt.Errorf("encoding report: %w", err)
					}
					fmt.Fprintf(env.stdout, "%s\n", data)
				} else if err := rep.writeTable(env.stdout); err != nil {
					return err
				}
				if *expect != "" {
					if err := rep.compare(*expect); err != nil {
						return err
					}
					if !*asJSON {
						fmt.Fprintf(env.stdout, "matches the generator's summary %s\n", *expect)
					}
				}
				if *strict && rep.RejectedTotal > 0 {
					return fmt.Errorf("%d of %d records rejected", rep.RejectedTotal, rep.Records)
				}
				return nil
			}
		},
	})
}

// validateReport is what validate prints.
type validateReport struct {
	Records  int `json:"records"`
	Accepted int `json:"accepted"`
	// Duplicates are accepted records whose event_id an earlier accepted
	// record had.
	Duplicates    int                  `json:"duplicates"`
	Rejected      map[event.Reason]int `json:"rejected"`
	RejectedTotal int                  `json:"rejected_total"`
	BlankLines    int                  `json:"blank_lines"`
	examples      map[event.Reason][]string
}

// validateStream checks every line of r with received time now. Lines of
// any length are read whole (an over-long one is a too_large rejection).
func validateStream(ctx context.Context, r io.Reader, now time.Time, examples int) (*validateReport, error) {
	rep := &validateReport{Rejected: map[event.Reason]int{}, examples: map[event.Reason][]string{}}
	for _, reason := range event.Reasons() {
		rep.Rejected[reason] = 0
	}
	seed := maphash.MakeSeed()
	seen := make(map[uint64]struct{}, 1<<16)
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			continue
		}
		if long != nil {
			line = append(long, line...)
			long = long[:0]
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return rep, err
		}
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			if err != nil { // EOF
				break
			}
			rep.BlankLines++
			continue
		}
		rep.Records++
		if rep.Records%65536 == 0 && ctx.Err() != nil {
			return rep, ctx.Err()
		}
		e, rej := event.Validate(line, now)
		if rej != nil {
			rep.Rejected[rej.Reason]++
			rep.RejectedTotal++
			if len(rep.examples[rej.Reason]) < examples {
				rec := line
				if len(rec) > 200 {
					rec = rec[:200]
				}
				rep.examples[rej.Reason] = append(rep.examples[rej.Reason], fmt.Sprintf("%v\n      %q", rej, rec))
			}
		} else {
			rep.Accepted++
			h := maphash.String(seed, e.EventID)
			if _, dup := seen[h]; dup {
				rep.Duplicates++
			} else {
				seen[h] = struct{}{}
			}
		}
		if err != nil { // EOF after a last line without newline
			break
		}
	}
	return rep, nil
}

// compare checks the report against a generate summary file.
func (rep *validateReport) compare(summaryFile string) error {
	data, err := os.ReadFile(summaryFile)
	if err != nil {
		return fmt.Errorf("reading expected summary: %w", err)
	}
	var sum gen.Summary
	if err := json.Unmarshal(data, &sum); err != nil {
		return fmt.Errorf("decoding expected summary %s: %w", summaryFile, err)
	}
	var diffs []string
	check := func(what string, got, want int) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %d, generated %d", what, got, want))
		}
	}
	check("records", rep.Records, sum.Events)
	check("accepted", rep.Accepted, sum.Accepted)
	check("repeating an event_id", rep.Duplicates, sum.Duplicates)
	for _, reason := range event.Reasons() {
		check(string(reason), rep.Rejected[reason], sum.Rejected[reason])
	}
	if len(diffs) > 0 {
		return fmt.Errorf("counts differ from %s: %s", summaryFile, strings.Join(diffs, "; "))
	}
	return nil
}

func (rep *validateReport) writeTable(w io.Writer) error {
	bw := bufio.NewWriter(w)
	row := func(label string, n int) { fmt.Fprintf(bw, "%-32s %10d\n", label, n) }
	row("records", rep.Records)
	row("accepted", rep.Accepted)
	row("  of them repeating an event_id", rep.Duplicates)
	row("rejected", rep.RejectedTotal)
	for _, reason := range event.Reasons() {
		row("  "+string(reason), rep.Rejected[reason])
	}
	if rep.BlankLines > 0 {
		row("blank lines skipped", rep.BlankLines)
	}
	for _, reason := range event.Reasons() {
		for _, ex := range rep.examples[reason] {
			fmt.Fprintf(bw, "  %s\n", ex)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}
