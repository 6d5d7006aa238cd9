package batch

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// hourlyEngine makes every hour's batch rows without raw input: one row
// per default type × source, each with benchUsers distinct users (a dense
// sketch, as a busy hour has). Every row has users of its own, so no two
// sketches are alike (as in real hours, and as compression sees them).
type hourlyEngine struct{}

const benchUsers = 2000

// benchUserHashes are the user hashes of each type × source, made once.
var benchUserHashes = func() [][]uint64 {
	var out [][]uint64
	for ti := range gen.DefaultTypes {
		for si := range gen.DefaultSources {
			hs := make([]uint64, benchUsers)
			for u := range hs {
				hs[u] = agg.UserHash(fmt.Sprintf("u%d-%d-%d", u, ti, si))
			}
			out = append(out, hs)
		}
	}
	return out
}()

func (hourlyEngine) BuildHour(_ context.Context, hour time.Time, _ []RawObject) (*HourResult, error) {
	tbl := agg.Table{}
	for ti, typ := range gen.DefaultTypes {
		for si, src := range gen.DefaultSources {
			a := tbl.Get(agg.Key{WindowStart: hour, EventType: typ, Source: src}, false)
			salt := uint64(hour.Unix()) * 0x9e3779b97f4a7c15
			for u, h := range benchUserHashes[ti*len(gen.DefaultSources)+si] {
				a.Add(0, mix64(h^salt), float64(u%7))
			}
		}
	}
	rows, err := views.Rows(tbl)
	if err != nil {
		return nil, err
	}
	var n int64
	for _, r := range rows {
		n += r.Events
	}
	return &HourResult{Rows: rows, Records: n, Valid: n}, nil
}

// mix64 is splitmix64's finalizer: a bijection that spreads the bits of
// its input, so salted hashes look like other users' hashes.
func mix64(x uint64) uint64 {
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// BenchmarkMergeDays times a merge that rewrites every day (the first
// merge, or one after the batch view was rebuilt) of a batch view holding
// 1, 7, 30 or 90 days of hourly rows for every type × source:
//
//	go test ./batch -run '^$' -bench MergeDays -benchtime 3x
func BenchmarkMergeDays(b *testing.B) {
	ctx := context.Background()
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	for _, days := range []int{1, 7, 30, 90} {
		b.Run(fmt.Sprintf("days=%d", days), func(b *testing.B) {
			dir := b.TempDir()
			raw, err := storage.NewLocal(dir + "/raw")
			if err != nil {
				b.Fatal(err)
			}
			bv, err := storage.NewLocal(dir + "/views")
			if err != nil {
				b.Fatal(err)
			}
			for h := 0; h < days*24; h++ {
				t := start.Add(time.Duration(h) * time.Hour)
				key := fmt.Sprintf("events/dt=%s/hour=%02d/part-0.gz", t.Format("2006-01-02"), t.Hour())
				if err := raw.Put(ctx, key, []byte("x")); err != nil {
					b.Fatal(err)
				}
			}
			end := start.Add(time.Duration(days) * 24 * time.Hour)
			now := func() time.Time { return end.Add(DefaultLateness + time.Hour) }
			bld := &Builder{Raw: raw, Out: bv, Engine: hourlyEngine{}, Now: now}
			if _, err := bld.Run(ctx); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			cpu0 := cpuTime()
			var sum *MergeSummary
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				out := fmt.Sprintf("%s/merged-%d", dir, i)
				if err := os.MkdirAll(out, 0o755); err != nil {
					b.Fatal(err)
				}
				ms, err := storage.NewLocal(out)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				m := &Merger{Batch: bv, Speed: bv, Out: ms, Now: now}
				if sum, err = m.Run(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if len(sum.Days) != days || sum.HourRows != days*24*len(gen.DefaultTypes)*len(gen.DefaultSources) {
				b.Fatalf("merged %d days, %d hour rows; want %d days of every type × source", len(sum.Days), sum.HourRows, days)
			}
			// CPU seconds (user + system, all threads) per merge: steadier
			// than wall time on a shared machine.
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(sum.HourRows), "hour-rows")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
