// Package batchview benchmarks building the hourly batch view against DuckDB
// doing the same aggregation over the same files. It is its own module so
// DuckDB (cgo) never enters the main module's build.
package batchview

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/views"
)

// RowGroupRows is the row group size of the benchmark file: DuckDB's
// default when it writes Parquet.
const RowGroupRows = 122880

// Files writes, once, n generated events (as lambdastack generate makes
// them: duplicates and late events, no bad records since Parquet cannot hold
// them) to dir as raw Parquet (DESIGN.md columns, snappy) and as enriched
// NDJSON, and returns their paths. Existing files are reused.
func Files(dir string, n int) (parquetPath, ndjsonPath string, err error) {
	parquetPath = filepath.Join(dir, fmt.Sprintf("events-%d.parquet", n))
	ndjsonPath = filepath.Join(dir, fmt.Sprintf("events-%d.ndjson", n))
	if _, err1 := os.Stat(parquetPath); err1 == nil {
		if _, err2 := os.Stat(ndjsonPath); err2 == nil {
			return parquetPath, ndjsonPath, nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	g, err := gen.New(gen.Config{Seed: 42, Events: n, Start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Hours: 24,
		Users: 200000, Types: gen.DefaultTypes, Sources: gen.DefaultSources, DupRatio: 0.005, LateRatio: 0.02})
	if err != nil {
		return "", "", err
	}
	jf, err := os.Create(ndjsonPath + ".tmp")
	if err != nil {
		return "", "", err
	}
	jw := bufio.NewWriterSize(jf, 1<<20)
	pf, err := os.Create(parquetPath + ".tmp")
	if err != nil {
		return "", "", err
	}
	pw, err := views.NewRawWriter(pf, arrow.Millisecond, RowGroupRows)
	if err != nil {
		return "", "", err
	}
	var line []byte
	for !g.Done() {
		r := g.Next()
		if r.Kind == gen.Bad {
			continue
		}
		e, rej := event.Validate(r.Data, r.Arrival)
		if rej != nil {
			return "", "", fmt.Errorf("generated event rejected: %v", rej)
		}
		line = append(e.AppendJSON(line[:0]), '\n')
		if _, err := jw.Write(line); err != nil {
			return "", "", err
		}
		if err := pw.Append(&e); err != nil {
			return "", "", err
		}
	}
	if err := pw.Close(); err != nil {
		return "", "", fmt.Errorf("closing %s: %w", parquetPath, err)
	}
	if err := jw.Flush(); err != nil {
		return "", "", err
	}
	if err := jf.Close(); err != nil {
		return "", "", err
	}
	if err := os.Rename(parquetPath+".tmp", parquetPath); err != nil {
		return "", "", err
	}
	return parquetPath, ndjsonPath, os.Rename(ndjsonPath+".tmp", ndjsonPath)
}
