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

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
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
	ts := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_type", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "session_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "source", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "event_time", Type: ts, Nullable: true},
		{Name: "received_time", Type: ts, Nullable: true},
		{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "attributes", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(RowGroupRows))
	pw, err := pqarrow.NewFileWriter(schema, pf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return "", "", err
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	flush := func() error {
		rec := b.NewRecord()
		defer rec.Release()
		return pw.Write(rec)
	}
	var line []byte
	rows := 0
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
		b.Field(0).(*array.StringBuilder).Append(e.EventID)
		b.Field(1).(*array.StringBuilder).Append(e.EventType)
		b.Field(2).(*array.StringBuilder).Append(e.UserID)
		if e.SessionID == "" {
			b.Field(3).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(3).(*array.StringBuilder).Append(e.SessionID)
		}
		b.Field(4).(*array.StringBuilder).Append(e.Source)
		b.Field(5).(*array.TimestampBuilder).Append(arrow.Timestamp(e.EventTime.UnixMilli()))
		b.Field(6).(*array.TimestampBuilder).Append(arrow.Timestamp(e.ReceivedTime.UnixMilli()))
		if e.HasValue {
			b.Field(7).(*array.Float64Builder).Append(e.Value)
		} else {
			b.Field(7).(*array.Float64Builder).AppendNull()
		}
		mb := b.Field(8).(*array.MapBuilder)
		if e.Attributes == nil {
			mb.AppendNull()
		} else {
			mb.Append(true)
			for k, v := range e.Attributes {
				mb.KeyBuilder().(*array.StringBuilder).Append(k)
				mb.ItemBuilder().(*array.StringBuilder).Append(v)
			}
		}
		if rows++; rows%RowGroupRows == 0 {
			if err := flush(); err != nil {
				return "", "", err
			}
		}
	}
	if rows%RowGroupRows != 0 {
		if err := flush(); err != nil {
			return "", "", err
		}
	}
	b.Release()
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
