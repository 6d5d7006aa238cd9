package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/lambdastack/lambdastack/internal/hll"
)

func init() {
	register(&command{
		name:    "sketch",
		summary: "build, merge and inspect HyperLogLog sketches in Athena's format (users_sketch)",
		usage: `lambdastack sketch build | merge | inspect HEX

Sketches are Athena's (Trino's) HyperLogLog, as approx_set makes them and the
views' users_sketch column holds, shown in hex as to_hex(CAST(approx_set(x) AS
varbinary)) shows them; compare with Athena and debug a view with these.

  build    stdin lines KEY<TAB>VALUE (split at the first tab; the value's bytes
           as given): prints KEY<TAB>HEX<TAB>CARDINALITY per key, keys in the
           order first seen, values added in input order.
  merge    stdin lines KEY<TAB>HEX: prints each key's merged sketch in the same
           form, merged as Athena's merge(CAST(x AS HyperLogLog)) does.
  inspect  HEX: the format, precision, sparse entries or dense registers, and
           the cardinality.

A line without a tab, bad hex or an invalid sketch is an error naming its line
number (exit status 1); so is empty input. Needs no AWS access.`,
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			return func(ctx context.Context, env *cliEnv, args []string) error {
				if len(args) == 0 {
					return usagef("want build, merge or inspect HEX")
				}
				switch args[0] {
				case "build", "merge":
					if len(args) > 1 {
						return usagef("%s reads stdin and takes no arguments, got %q", args[0], args[1:])
					}
					return sketchLines(env.stdin, env.stdout, args[0] == "merge")
				case "inspect":
					if len(args) != 2 {
						return usagef("inspect takes one hex sketch")
					}
					return inspectSketch(env.stdout, args[1])
				}
				return usagef("unknown sketch command %q: want build, merge or inspect", args[0])
			}
		},
	})
}

// parseHex reads bytes written in hex (any case, with or without 0x).
func parseHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("bad hex: %w", err)
	}
	return b, nil
}

// decodeHex reads a sketch written in hex.
func decodeHex(s string) (*hll.Sketch, error) {
	b, err := parseHex(s)
	if err != nil {
		return nil, err
	}
	return hll.Decode(b)
}

// sketchLines builds (values) or merges (hex sketches) per key from KEY<TAB>…
// lines and prints KEY<TAB>HEX<TAB>CARDINALITY per key in first-seen order.
func sketchLines(in io.Reader, out io.Writer, merge bool) error {
	what := "build"
	if merge {
		what = "merge"
	}
	sketches := map[string]*hll.Sketch{}
	var order []string
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		key, val, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			return fmt.Errorf("sketch %s: line %d: no tab; want KEY<TAB>%s", what, n, map[bool]string{false: "VALUE", true: "HEX"}[merge])
		}
		s, seen := sketches[key]
		if !merge {
			if !seen {
				s = hll.New()
				sketches[key] = s
				order = append(order, key)
			}
			s.AddString(val)
			continue
		}
		in, err := decodeHex(val)
		if err != nil {
			return fmt.Errorf("sketch merge: line %d (key %q): %w", n, key, err)
		}
		if !seen {
			sketches[key] = in
			order = append(order, key)
			continue
		}
		if err := s.Merge(in); err != nil {
			return fmt.Errorf("sketch merge: line %d (key %q): %w", n, key, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("sketch %s: reading line %d: %w", what, n+1, err)
	}
	if n == 0 {
		return errors.New("sketch " + what + ": no lines on stdin")
	}
	w := bufio.NewWriter(out)
	for _, k := range order {
		b, err := sketches[k].MarshalBinary()
		if err != nil {
			return fmt.Errorf("sketch %s: encoding key %q: %w", what, k, err)
		}
		fmt.Fprintf(w, "%s\t%x\t%d\n", k, b, sketches[k].Cardinality())
	}
	return w.Flush()
}

func inspectSketch(out io.Writer, h string) error {
	b, err := parseHex(h)
	if err != nil {
		return fmt.Errorf("sketch inspect: %w", err)
	}
	info, err := hll.Inspect(b)
	if err != nil {
		return fmt.Errorf("sketch inspect: %w", err)
	}
	fmt.Fprintf(out, "format       %s\n", info.Format)
	fmt.Fprintf(out, "precision    p = %d (%d buckets)\n", info.P, 1<<info.P)
	fmt.Fprintf(out, "bytes        %d\n", info.Bytes)
	if info.Format == "SPARSE_V2" {
		fmt.Fprintf(out, "entries      %d (distinct 26-bit hash prefixes; dense from 512 added)\n", info.Entries)
	} else {
		fmt.Fprintf(out, "baseline     %d\n", info.Baseline)
		fmt.Fprintf(out, "overflows    %d\n", info.Overflows)
	}
	fmt.Fprintf(out, "registers    %d zero, largest %d\n", info.Zeros, info.MaxRegister)
	_, err = fmt.Fprintf(out, "cardinality  %d\n", info.Cardinality)
	return err
}
