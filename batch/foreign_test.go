package batch_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/views"
)

// TestForeignParquet reads raw events Parquet written by another engine:
// testdata/foreign/duckdb-1.4.1.parquet is DuckDB 1.4.1's COPY of
// arrow.parquet (3 000 events, microsecond timestamps, 1 000-row groups,
// DuckDB's own encodings), made with the bench/batchview module. Both must
// give the same batch view.
func TestForeignParquet(t *testing.T) {
	view := func(name string) []views.Row {
		t.Helper()
		path := filepath.Join("testdata", "foreign", name)
		src := batch.Source{Name: path, Fetch: func(context.Context) ([]byte, error) { return os.ReadFile(path) }}
		res, err := batch.Aggregate(context.Background(), []batch.Source{src}, batch.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(res.Bad) != 0 || res.Valid != 3000 {
			t.Fatalf("%s: bad %v, valid %d, want 3000 valid", name, res.Bad, res.Valid)
		}
		rows, err := views.Rows(res.Hours)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	ours, theirs := view("arrow.parquet"), view("duckdb-1.4.1.parquet")
	if len(ours) == 0 || !reflect.DeepEqual(ours, theirs) {
		t.Fatalf("DuckDB's copy gives a different view: %d rows vs %d", len(theirs), len(ours))
	}
}
