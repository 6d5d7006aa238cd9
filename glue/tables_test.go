package glue_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/glue"
)

var update = flag.Bool("update", false, "rewrite testdata/*.sql")

// TestDDLGolden pins the Athena DDL of every table.
func TestDDLGolden(t *testing.T) {
	for _, tb := range glue.Tables() {
		t.Run(tb.Name, func(t *testing.T) {
			got := tb.DDL("lambdastack_dev", "s3://raw-bucket/") + "\n"
			golden := filepath.Join("testdata", tb.Name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update creates it)", err)
			}
			if got != string(want) {
				t.Errorf("DDL changed:\n%s", got)
			}
		})
	}
}

func TestTablesAreConsistent(t *testing.T) {
	for _, tb := range glue.Tables() {
		seen := map[string]bool{}
		for _, c := range append(append([]glue.Column(nil), tb.Columns...), tb.PartitionKeys...) {
			if seen[c.Name] {
				t.Errorf("%s: column %s twice", tb.Name, c.Name)
			}
			seen[c.Name] = true
		}
		for _, k := range tb.PartitionKeys {
			if _, ok := tb.Projection[k.Name]; !ok {
				t.Errorf("%s: partition key %s has no projection", tb.Name, k.Name)
			}
			if !strings.Contains(tb.PathTemplate, "${"+k.Name+"}") {
				t.Errorf("%s: path template %q lacks ${%s}", tb.Name, tb.PathTemplate, k.Name)
			}
		}
		p := tb.TableParameters("s3://b")
		if p["projection.enabled"] != "true" || !strings.HasPrefix(p["storage.location.template"], "s3://b/"+tb.Prefix) {
			t.Errorf("%s: parameters %v", tb.Name, p)
		}
	}
	if got := glue.Errors.Projection["reason_code"].Values; len(got) != 8 || got[7] != "tombstone" {
		t.Errorf("errors reason projection %v", got)
	}
}
