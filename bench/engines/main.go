// Command engines writes generated raw events in the raw bucket's layout
// and times the batch engines over them: the figures of the README's
// sizing section and of docs/benchmarks.md ("batch engines").
//
//	go run ./bench/engines -write -dir /tmp/raw -events 5000000 -hours 24 -format parquet
//	go run ./bench/engines -dir /tmp/raw -engine go   # or sql
//	go run ./bench/engines -dir /tmp/raw -duckcopy    # rewrite the Parquet with DuckDB
//	go run ./bench/engines -dir /tmp/raw -engine duckdb -format parquet  # the reference
//
// Peak memory of one hour is measured on the command line instead:
// /usr/bin/time -v lambdastack batch --raw DIR --out OUT --quiet.
package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/batch/batchsql"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

var start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func main() {
	var (
		write  = flag.Bool("write", false, "write the raw events (else time a build over them)")
		dir    = flag.String("dir", "", "raw events directory (required)")
		events = flag.Int("events", 1000000, "events to generate (-write)")
		hours  = flag.Int("hours", 1, "hours the events arrive over (-write)")
		format = flag.String("format", "parquet", "raw format: parquet or ndjson (gzip) (-write)")
		engine = flag.String("engine", "go", "engine to time: go, sql, or duckdb (DuckDB's own dedup, aggregate and Parquet write: the reference)")
		prof   = flag.String("cpuprofile", "", "write a CPU profile of the timed build to this file")
		dcopy  = flag.Bool("duckcopy", false, "rewrite every raw Parquet object with DuckDB (its encodings and row groups)")
	)
	flag.Parse()
	if *dir == "" {
		log.Fatal("-dir is required")
	}
	ctx := context.Background()
	if *write {
		if err := writeRaw(*dir, *events, *hours, *format); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *dcopy {
		if err := duckCopy(*dir); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *engine == "duckdb" {
		t0 := time.Now()
		n, err := duckReference(*dir, *format)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("engine duckdb: %d view rows in %s\n", n, time.Since(t0).Round(time.Millisecond))
		return
	}
	raw, err := storage.NewLocal(*dir)
	if err != nil {
		log.Fatal(err)
	}
	outDir, err := os.MkdirTemp("", "engines-out-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(outDir)
	out, err := storage.NewLocal(outDir)
	if err != nil {
		log.Fatal(err)
	}
	b := &batch.Builder{Raw: raw, Out: out, Now: func() time.Time { return start.Add(72 * time.Hour) }}
	switch *engine {
	case "go":
	case "sql":
		b.Engine = &batchsql.Engine{Raw: raw}
	default:
		log.Fatalf("-engine %q: want go or sql", *engine)
	}
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	t0 := time.Now()
	sum, err := b.Run(ctx)
	if err != nil {
		log.Fatal(err)
	}
	el := time.Since(t0)
	fmt.Printf("engine %s: %d hours, %d records (%d valid, %d duplicates) in %s: %.2f M records/s\n", *engine, len(sum.Hours),
		sum.Rows, sum.Valid, sum.Duplicates, el.Round(time.Millisecond), float64(sum.Rows)/el.Seconds()/1e6)
}

// writeRaw writes the good generated events, one object per hour of
// event_time, as the Firehose writes them (NDJSON, gzip) or converts them
// (Parquet).
func writeRaw(dir string, n, hours int, format string) error {
	g, err := gen.New(gen.Config{Seed: 42, Events: n, Start: start, Hours: hours, Users: 200000,
		Types: gen.DefaultTypes, Sources: gen.DefaultSources, DupRatio: 0.005, LateRatio: 0.02})
	if err != nil {
		return err
	}
	type sink struct {
		f  *os.File
		bw *bufio.Writer
		zw *gzip.Writer
		pw *views.RawWriter
	}
	sinks := map[time.Time]*sink{}
	open := func(h time.Time) (*sink, error) {
		if s := sinks[h]; s != nil {
			return s, nil
		}
		ext := ".parquet"
		if format == "ndjson" {
			ext = ".gz"
		}
		p := filepath.Join(dir, "events", "dt="+h.Format("2006-01-02"), "hour="+h.Format("15"), "part-0"+ext)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		f, err := os.Create(p)
		if err != nil {
			return nil, err
		}
		s := &sink{f: f, bw: bufio.NewWriterSize(f, 1<<20)}
		if format == "ndjson" {
			s.zw = gzip.NewWriter(s.bw)
		} else if s.pw, err = views.NewRawWriter(s.bw, arrow.Millisecond, 122880); err != nil {
			return nil, err
		}
		sinks[h] = s
		return s, nil
	}
	var line []byte
	for !g.Done() {
		r := g.Next()
		if r.Kind == gen.Bad {
			continue
		}
		e, rej := event.Validate(r.Data, r.Arrival)
		if rej != nil {
			return fmt.Errorf("generated event rejected: %v", rej)
		}
		s, err := open(e.EventTime.UTC().Truncate(time.Hour))
		if err != nil {
			return err
		}
		if s.zw != nil {
			line = append(e.AppendJSON(line[:0]), '\n')
			if _, err := s.zw.Write(line); err != nil {
				return err
			}
		} else if err := s.pw.Append(&e); err != nil {
			return err
		}
	}
	for _, s := range sinks {
		var closer io.Closer = s.pw
		if s.zw != nil {
			closer = s.zw
		}
		if err := closer.Close(); err != nil {
			return err
		}
		if err := s.bw.Flush(); err != nil {
			return err
		}
		if err := s.f.Close(); err != nil {
			return err
		}
	}
	return nil
}
