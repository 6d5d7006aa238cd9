package event_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden runs every testdata/golden/*.json through Validate and compares
// the enriched line or the rejection with the .golden file beside it.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			e, rej := event.Validate(bytes.TrimRight(data, "\n"), received)
			if rej != nil {
				got = []byte("rejected " + string(rej.Reason) + " field=" + rej.Field + ": " + rej.Detail + "\n")
			} else {
				got = append(e.AppendJSON(nil), '\n')
			}
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s:\n got %s\nwant %s", name, got, want)
			}
		})
	}
}
