package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/hll/hlltest"
)

// TestSketchBuildAndMerge: build gives the Airlift vectors for their value
// sets (keys in first-seen order), merge gives merges-expected.tsv.
func TestSketchBuildAndMerge(t *testing.T) {
	want := map[string][]string{}
	var in strings.Builder
	var keys []string
	for _, row := range hlltest.TSV(t, "vectors.tsv") {
		var n int
		if _, err := fmt.Sscanf(row[0], "pub-%d", &n); err != nil || n > 4000 {
			continue
		}
		keys = append(keys, row[0])
		want[row[0]] = row[1:]
	}
	// Interleave the keys' values, as a query's rows would come.
	for i := range 4000 {
		for _, k := range keys {
			var n int
			fmt.Sscanf(k, "pub-%d", &n)
			if i < n {
				fmt.Fprintf(&in, "%s\tpub-%d\n", k, i)
			}
		}
	}
	code, out, errs := runCLI(t, in.String(), "sketch", "build")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(keys) {
		t.Fatalf("%d lines, want %d", len(lines), len(keys))
	}
	for i, l := range lines {
		f := strings.Split(l, "\t")
		if f[0] != keys[i] || f[1] != want[keys[i]][0] || f[2] != want[keys[i]][1] {
			t.Errorf("line %d: %.60s…, want %s %.40s… %s", i+1, l, keys[i], want[keys[i]][0], want[keys[i]][1])
		}
	}

	in.Reset()
	for _, row := range hlltest.TSV(t, "merges.tsv") {
		fmt.Fprintf(&in, "%s\t%s\n", row[0], strings.ToUpper(row[1])) // to_hex writes upper case
	}
	code, out, errs = runCLI(t, in.String(), "sketch", "merge")
	if code != 0 {
		t.Fatalf("merge: exit %d: %s", code, errs)
	}
	got := strings.Split(strings.TrimSpace(out), "\n")
	exp := hlltest.TSV(t, "merges-expected.tsv")
	if len(got) != len(exp) {
		t.Fatalf("merge: %d lines, want %d", len(got), len(exp))
	}
	for i, row := range exp {
		if got[i] != strings.Join(row, "\t") {
			t.Errorf("merge line %d: %.60s…, want %.60s…", i+1, got[i], strings.Join(row, "\t"))
		}
	}
}

func TestSketchInspect(t *testing.T) {
	code, out, errs := runCLI(t, "", "sketch", "inspect", "020C0500"+"40b75e37806a2873433864a50044a5e3003176fc")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, w := range []string{"SPARSE_V2", "p = 12", "entries      5", "cardinality  5"} {
		if !strings.Contains(out, w) {
			t.Errorf("output does not say %q:\n%s", w, out)
		}
	}
}

func TestSketchBadInput(t *testing.T) {
	for _, c := range []struct {
		name, stdin string
		args        []string
		code        int
		want        string
	}{
		{"build: no tab", "k\tv\nno tab here\n", []string{"build"}, 1, "line 2: no tab"},
		{"merge: bad hex", "k\t020c0000\nk\tzz\n", []string{"merge"}, 1, "line 2 (key \"k\"): bad hex"},
		{"merge: invalid sketch", "a\t020c0000\nb\t020c0000\nc\t020b0000\n", []string{"merge"}, 1, "line 3 (key \"c\"): decoding a sketch: precision 11"},
		{"merge: old axiomhq bytes", "k\t020e000100000000\n", []string{"merge"}, 1, "lambdastack batch --rebuild"},
		{"build: empty input", "", []string{"build"}, 1, "no lines on stdin"},
		{"inspect: bad sketch", "", []string{"inspect", "030c00"}, 1, "dense sketch of 3 bytes"},
		{"inspect: no argument", "", []string{"inspect"}, 2, "one hex sketch"},
		{"unknown", "", []string{"count"}, 2, "unknown sketch command"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.stdin, append([]string{"sketch"}, c.args...)...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, c.code, c.want)
			}
		})
	}
}
