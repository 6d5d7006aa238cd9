package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
)

// TestRunReconcilesAroundTheClock runs the whole pipeline in-process at
// times that put the watermark on awkward boundaries (a day change, just
// after the allowed lateness, the last minute of a day) and checks the
// merged view reconciles each time.
func TestRunReconcilesAroundTheClock(t *testing.T) {
	for _, now := range []time.Time{
		time.Date(2026, 11, 22, 0, 5, 0, 0, time.UTC),   // watermark 23:00 the day before
		time.Date(2026, 11, 22, 0, 15, 0, 0, time.UTC),  // watermark exactly midnight
		time.Date(2026, 11, 22, 23, 59, 0, 0, time.UTC), // watermark 23:00, speed the last hour
		time.Date(2026, 11, 22, 10, 14, 59, 0, time.UTC),
	} {
		t.Run(now.Format("15:04:05"), func(t *testing.T) {
			ctx := context.Background()
			raw, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			vs, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			stream := streaming.NewMemStream(3)
			stream.Now = func() time.Time { return now }
			rep, err := pipeline.Run(ctx, pipeline.Config{
				Gen: gen.Config{Seed: uint64(now.Unix()), Events: 3000, Start: now.Add(-3 * time.Hour), Hours: 3, Users: 300,
					Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.03, DupRatio: 0.05, LateRatio: 0.05},
				Now: now, Lateness: 15 * time.Minute, Stream: "s", Sink: stream, Source: stream,
				BufferBytes: 64 << 10, ReadLimit: 200, Raw: raw, Views: vs,
			})
			if err != nil {
				t.Fatal(err)
			}
			rc := rep.Reconciled
			wm := now.Add(-15 * time.Minute).Truncate(time.Hour)
			if !rc.OK() || !rc.Watermark.Equal(wm) || rc.Expected != int64(rep.Generated.Unique) {
				t.Fatalf("watermark %s (want %s), expected %d of %d, problems %v", rc.Watermark, wm, rc.Expected, rep.Generated.Unique, rc.Problems)
			}
			// The users view was read and checked for every day with events
			// (two when the three hours cross midnight).
			if days := len(rc.Users.DAU); days == 0 || rc.Users.Rows < days*(len(gen.DefaultTypes)+1) {
				t.Fatalf("users check %+v", rc.Users)
			}
			if rc.Events["batch"] == 0 || rc.Events["speed"] == 0 {
				t.Fatalf("events by layer %v: both layers should hold some", rc.Events)
			}
		})
	}
}
