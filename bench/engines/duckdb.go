package main

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/bench/duckref"
)

func openDuck() (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec("SET TimeZone = 'UTC'"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// duckReference is the reference: DuckDB's own dedup, aggregation
// (duckref.ViewQuery) and Parquet write over every raw object under dir;
// it returns the number of view rows written.
func duckReference(dir, format string) (int64, error) {
	db, err := openDuck()
	if err != nil {
		return 0, err
	}
	defer db.Close()
	out, err := os.MkdirTemp("", "engines-duck-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(out)
	scan := fmt.Sprintf("read_parquet('%s/events/*/*/*.parquet')", dir)
	if format == "ndjson" {
		scan = fmt.Sprintf("read_json('%s/events/*/*/*.gz', format='newline_delimited', compression='gzip', columns={event_id: 'VARCHAR', event_type: 'VARCHAR', event_time: 'TIMESTAMPTZ', user_id: 'VARCHAR', source: 'VARCHAR', value: 'DOUBLE'})", dir)
	}
	res, err := db.Exec("COPY (" + fmt.Sprintf(duckref.ViewQuery, scan) + ") TO '" + filepath.Join(out, "view.parquet") + "' (FORMAT parquet)")
	if err != nil {
		return 0, fmt.Errorf("running the DuckDB reference over %s: %w", dir, err)
	}
	return res.RowsAffected()
}

// duckCopy rewrites every raw Parquet object under dir as DuckDB writes
// it (its row groups, encodings and microsecond timestamps).
func duckCopy(dir string) error {
	db, err := openDuck()
	if err != nil {
		return err
	}
	defer db.Close()
	files, err := filepath.Glob(filepath.Join(dir, "events", "*", "*", "*.parquet"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no Parquet objects under %s/events", dir)
	}
	for _, f := range files {
		if _, err := db.Exec(fmt.Sprintf("COPY (SELECT * FROM read_parquet('%s')) TO '%s.tmp' (FORMAT parquet)", f, f)); err != nil {
			return fmt.Errorf("rewriting %s with DuckDB: %w", f, err)
		}
		if err := os.Rename(f+".tmp", f); err != nil {
			return err
		}
	}
	return nil
}
