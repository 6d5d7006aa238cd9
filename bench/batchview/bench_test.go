package batchview

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/views"
)

// events is the size of the benchmark files (BENCH_EVENTS overrides it).
func events() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && v > 0 {
		return v
	}
	return 5_000_000
}

func files(b *testing.B) (string, string) {
	b.Helper()
	p, j, err := Files("../out", events())
	if err != nil {
		b.Fatalf("writing benchmark files: %v", err)
	}
	return p, j
}

// ours builds the hourly batch view of one file: read, validate, exact
// dedup by (hour, event_id), aggregate with sketches, encode the view.
func ours(b *testing.B, path string) (rows int) {
	ctx := context.Background()
	src := batch.Source{Name: path, Fetch: func(context.Context) ([]byte, error) { return os.ReadFile(path) }}
	res, err := batch.Aggregate(ctx, []batch.Source{src}, batch.Options{})
	if err != nil {
		b.Fatal(err)
	}
	vr, err := views.Rows(res.Hours)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := views.Encode(glue.BatchView, vr); err != nil {
		b.Fatal(err)
	}
	return len(vr)
}

// duckQuery is the same view in DuckDB: dedup by (hour, event_id), then
// per (hour, event_type, source) the count, an approximate distinct user
// count and the value sum.
const duckQuery = `
WITH dedup AS (
  SELECT date_trunc('hour', event_time) AS window_start, event_id,
         any_value(event_type) AS event_type, any_value(coalesce(source, 'unknown')) AS source,
         any_value(user_id) AS user_id, any_value(coalesce(value, 0)) AS value
  FROM %s GROUP BY ALL)
SELECT window_start, event_type, source, count(*) AS events,
       approx_count_distinct(user_id) AS users, sum(value) AS value_sum
FROM dedup GROUP BY ALL`

func duck(b *testing.B, db *sql.DB, from string) (rows int) {
	r, err := db.Query(fmt.Sprintf(duckQuery, from))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		rows++
	}
	if err := r.Err(); err != nil {
		b.Fatal(err)
	}
	return rows
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBatchView runs both engines over the same files in one run:
//
//	cd bench/batchview && go test -bench BatchView -benchtime 3x -run '^$'
func BenchmarkBatchView(b *testing.B) {
	pq, nd := files(b)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("SET threads = 2; SET TimeZone = 'UTC'"); err != nil {
		b.Fatal(err)
	}
	var want int
	for _, c := range []struct {
		name string
		run  func(b *testing.B) int
	}{
		{"parquet/lambdastack", func(b *testing.B) int { return ours(b, pq) }},
		{"parquet/duckdb", func(b *testing.B) int { return duck(b, db, "read_parquet('"+pq+"')") }},
		{"ndjson/lambdastack", func(b *testing.B) int { return ours(b, nd) }},
		{"ndjson/duckdb", func(b *testing.B) int {
			return duck(b, db, "read_json('"+nd+"', format='newline_delimited', columns={event_id: 'VARCHAR', event_type: 'VARCHAR', event_time: 'TIMESTAMPTZ', user_id: 'VARCHAR', source: 'VARCHAR', value: 'DOUBLE'})")
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				n := c.run(b)
				if want == 0 {
					want = n
				} else if n != want {
					b.Fatalf("%s gave %d rows, the first engine %d", c.name, n, want)
				}
			}
			// CPU seconds (user+system, all threads, DuckDB's included) per
			// run: comparable even when other work shares the machine.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(events())/b.Elapsed().Seconds()*float64(b.N)/1e6, "Mevents/s")
		})
	}
}
