package glue_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/glue"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestTablesAreConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, tb := range glue.Tables() {
		t.Run(tb.Name, func(t *testing.T) {
			if seen[tb.Name] {
				t.Fatalf("table name %q used twice", tb.Name)
			}
			seen[tb.Name] = true
			if !strings.HasPrefix(tb.Template, tb.Prefix) {
				t.Errorf("template %q is not below prefix %q", tb.Template, tb.Prefix)
			}
			cols := map[string]bool{}
			for _, c := range tb.Columns {
				if cols[c.Name] {
					t.Errorf("column %q declared twice", c.Name)
				}
				cols[c.Name] = true
			}
			rest := tb.Template
			for _, p := range tb.Partitions {
				if cols[p.Name] {
					t.Errorf("partition key %q is also a column (Athena rejects that)", p.Name)
				}
				ref := "${" + p.Name + "}"
				if !strings.Contains(tb.Template, ref) {
					t.Errorf("template %q does not use partition key %s", tb.Template, ref)
				}
				rest = strings.ReplaceAll(rest, ref, "")
				params := tb.Parameters("s3://b")
				if params["projection."+p.Name+".type"] == "" {
					t.Errorf("partition key %q has no projection type", p.Name)
				}
			}
			if strings.Contains(rest, "${") {
				t.Errorf("template %q uses a key that is not a partition key", tb.Template)
			}
			if got := tb.Parameters("s3://b/")["storage.location.template"]; got != "s3://b/"+tb.Template {
				t.Errorf("storage.location.template = %q", got)
			}
		})
	}
}

func TestViewsShareTheViewColumns(t *testing.T) {
	want := glue.ViewColumns()
	for _, tb := range []glue.Table{glue.BatchView(), glue.SpeedView(), glue.MergedView()} {
		if len(tb.Columns) < len(want) {
			t.Fatalf("%s has %d columns, want at least %d", tb.Name, len(tb.Columns), len(want))
		}
		for i, c := range want {
			if tb.Columns[i] != c {
				t.Errorf("%s column %d = %+v, want %+v", tb.Name, i, tb.Columns[i], c)
			}
		}
	}
	m := glue.MergedView()
	extra := m.Columns[len(want):]
	if len(extra) != 2 || extra[0].Name != "layer" || extra[1].Name != "watermark" || extra[1].Type != glue.TypeTimestamp {
		t.Errorf("merged view extra columns = %+v, want layer string and watermark timestamp", extra)
	}
}

func TestDDLGolden(t *testing.T) {
	var b strings.Builder
	for _, tb := range glue.Tables() {
		bucket := "s3://example-raw"
		if tb.Bucket == glue.ViewsBucket {
			bucket = "s3://example-views"
		}
		b.WriteString(tb.DDL("lambdastack_dev", bucket))
		b.WriteString(";\n\n")
	}
	golden := filepath.Join("testdata", "tables.sql")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden DDL (run go test -update once): %v", err)
	}
	if b.String() != string(want) {
		t.Errorf("DDL differs from %s; rerun with -update if the change is intended\n%s", golden, b.String())
	}
}
