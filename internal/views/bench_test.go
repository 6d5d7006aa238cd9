package views_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/views"
)

// dayOfHours is a merged view's day of hour rows: 24 hours of 8 types × 4
// sources, each with a dense sketch of 2 000 users of its own (no two
// rows share users, so no two sketches are alike).
func dayOfHours(b *testing.B) []views.Row {
	b.Helper()
	t := agg.Table{}
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for h := range 24 {
		for ti := range 8 {
			for si := range 4 {
				k := agg.Key{WindowStart: day.Add(time.Duration(h) * time.Hour), EventType: fmt.Sprintf("type%d", ti), Source: fmt.Sprintf("src%d", si)}
				a := t.Get(k, false)
				for u := range 2000 {
					a.Add(0, agg.UserHash(fmt.Sprintf("u%d-%d-%d-%d", u, h, ti, si)), float64(u%7))
				}
			}
		}
	}
	rows, err := views.Rows(t)
	if err != nil {
		b.Fatal(err)
	}
	for i := range rows {
		rows[i].Layer, rows[i].Watermark = views.LayerBatch, day.Add(48*time.Hour)
	}
	return rows
}

// BenchmarkMergedDay times what the merge does per day of hour rows:
// encode them as the merged view, decode them, roll their users up.
//
//	go test ./internal/views -run '^$' -bench MergedDay
func BenchmarkMergedDay(b *testing.B) {
	rows := dayOfHours(b)
	data, err := views.Encode(glue.MergedView, rows)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encode", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := views.Encode(glue.MergedView, rows); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(data)), "file-bytes")
	})
	b.Run("EncodeSmall", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := views.Encode(glue.UsersView, rows[:13]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := views.Decode(b.Context(), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("UserRollup", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := views.UserRollup(rows); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the CPU time (user + system, all threads, GC included)
// per op of the benchmark it is deferred in: steadier than wall time on a
// shared machine.
func reportCPU(b *testing.B) func() {
	cpu0 := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
