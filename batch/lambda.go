package batch

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/storage"
)

// LambdaConfig is the configuration of the scheduled batch and merge
// Lambdas, read once from the environment by their main.
type LambdaConfig struct {
	RawLocation   string        // RAW_LOCATION: s3://raw-bucket/ (batch only)
	ViewsLocation string        // VIEWS_LOCATION: s3://views-bucket/ holding batch/, speed/, merged/
	Lateness      time.Duration // ALLOWED_LATENESS: default 15m
}

// ConfigFromEnv reads and checks the configuration; needRaw is true for
// the batch Lambda. VIEWS_LOCATION is the root holding batch/, speed/ and
// merged/.
func ConfigFromEnv(getenv func(string) string, needRaw bool) (LambdaConfig, error) {
	c := LambdaConfig{RawLocation: getenv("RAW_LOCATION"), ViewsLocation: getenv("VIEWS_LOCATION"), Lateness: DefaultLateness}
	if c.ViewsLocation == "" {
		return c, fmt.Errorf("reading configuration: VIEWS_LOCATION is not set")
	}
	if needRaw && c.RawLocation == "" {
		return c, fmt.Errorf("reading configuration: RAW_LOCATION is not set")
	}
	if v := getenv("ALLOWED_LATENESS"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return c, fmt.Errorf("reading configuration: ALLOWED_LATENESS %q is not a non-negative duration", v)
		}
		c.Lateness = d
	}
	return c, nil
}

// BatchHandler is the scheduled (EventBridge) batch Lambda.
type BatchHandler struct {
	Raw, Views storage.Store
	Lateness   time.Duration
	Now        func() time.Time
}

// Handle brings the batch view up to date and returns the run's summary.
func (h *BatchHandler) Handle(ctx context.Context, ev events.CloudWatchEvent) (*Summary, error) {
	b := &Builder{Raw: h.Raw, Out: h.Views, Now: h.Now, Lateness: h.Lateness}
	sum, err := b.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("batch run for schedule event %s: %w", ev.ID, err)
	}
	slog.InfoContext(ctx, "batch run", "watermark", sum.Watermark, "hours", len(sum.Hours), "days", sum.Days,
		"objects", sum.Objects, "records", sum.Rows, "valid", sum.Valid, "duplicates", sum.Duplicates, "bad", sum.Bad)
	return sum, nil
}

// MergeHandler is the scheduled (EventBridge) merge Lambda.
type MergeHandler struct {
	Views storage.Store
	Now   func() time.Time
}

// Handle publishes the serving view and returns the merge's summary.
func (h *MergeHandler) Handle(ctx context.Context, ev events.CloudWatchEvent) (*MergeSummary, error) {
	m := &Merger{Batch: h.Views, Speed: h.Views, Out: h.Views, Now: h.Now}
	sum, err := m.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("merge for schedule event %s: %w", ev.ID, err)
	}
	slog.InfoContext(ctx, "merge", "watermark", sum.Watermark, "days", sum.Days, "speed_objects", sum.SpeedObjects,
		"batch_objects", sum.BatchObjects, "hour_rows", sum.HourRows, "day_rows", sum.DayRows)
	return sum, nil
}
