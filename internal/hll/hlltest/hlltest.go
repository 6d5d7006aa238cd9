// Package hlltest reads the Airlift HyperLogLog vectors in
// internal/hll/testdata for the tests of hll and of the commands that
// write sketches.
package hlltest

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TSV reads internal/hll/testdata/name: its tab-separated fields, line by
// line, skipping blank lines and the '#' header lines. A file with no rows
// fails the test (a loop over none would check nothing).
func TSV(t testing.TB, name string) [][]string {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	f, err := os.Open(filepath.Join(filepath.Dir(here), "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			rows = append(rows, strings.Split(line, "\t"))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatalf("hlltest: testdata/%s has no rows", name)
	}
	return rows
}
