package batchview

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/views"
)

// Parquet written by DuckDB (microsecond timestamps, its own encodings and
// row groups) reads to the same batch view as the file it was copied from.
func TestDuckDBWrittenParquet(t *testing.T) {
	dir := t.TempDir()
	ours, _, err := Files(dir, 20000)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	theirs := filepath.Join(dir, "duckdb.parquet")
	if _, err := db.Exec("COPY (SELECT * FROM read_parquet('" + ours + "')) TO '" + theirs + "' (FORMAT parquet, ROW_GROUP_SIZE 5000)"); err != nil {
		t.Fatal(err)
	}
	view := func(path string) []views.Row {
		t.Helper()
		src := batch.Source{Name: path, Fetch: func(context.Context) ([]byte, error) { return os.ReadFile(path) }}
		res, err := batch.Aggregate(context.Background(), []batch.Source{src}, batch.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Bad) != 0 || res.Valid == 0 {
			t.Fatalf("%s: bad %v, valid %d", path, res.Bad, res.Valid)
		}
		rows, err := views.Rows(res.Hours)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	a, b := view(ours), view(theirs)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("DuckDB's copy gives a different view: %d rows vs %d", len(b), len(a))
	}
}
