package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/metrics"
	"github.com/lambdastack/lambdastack/internal/storage"
)

// LambdaConfig is the configuration of the scheduled batch and merge
// Lambdas, read once from the environment by their main.
type LambdaConfig struct {
	RawLocation   string        // RAW_LOCATION: s3://raw-bucket/ (batch only)
	ViewsLocation string        // VIEWS_LOCATION: s3://views-bucket/ holding batch/, speed/, merged/
	Lateness      time.Duration // ALLOWED_LATENESS: default 15m
	Stage         string        // STAGE: the Stage dimension of the jobs' metrics (required)
}

// ConfigFromEnv reads and checks the configuration; needRaw is true for
// the batch Lambda. VIEWS_LOCATION is the root holding batch/, speed/ and
// merged/.
func ConfigFromEnv(getenv func(string) string, needRaw bool) (LambdaConfig, error) {
	c := LambdaConfig{RawLocation: getenv("RAW_LOCATION"), ViewsLocation: getenv("VIEWS_LOCATION"), Lateness: DefaultLateness,
		Stage: getenv("STAGE")}
	if c.ViewsLocation == "" {
		return c, fmt.Errorf("reading configuration: VIEWS_LOCATION is not set")
	}
	if c.Stage == "" {
		return c, fmt.Errorf("reading configuration: STAGE is not set (the Stage dimension of the metrics)")
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
	// Stage and Metrics: each run writes an Embedded Metric Format line
	// (internal/metrics: WatermarkAgeSeconds, HoursRebuilt, BadRecords) to
	// Metrics, the function's standard output. Nil Metrics writes none.
	Stage   string
	Metrics io.Writer
}

// Handle brings the batch view up to date and returns the run's summary.
func (h *BatchHandler) Handle(ctx context.Context, ev events.CloudWatchEvent) (*Summary, error) {
	b := &Builder{Raw: h.Raw, Out: h.Views, Now: h.Now, Lateness: h.Lateness}
	sum, err := b.Run(ctx)
	if errors.Is(err, ErrNoRawEvents) {
		// A new deployment before its first events: nothing to do yet, and
		// no failed invocation to alarm on.
		slog.InfoContext(ctx, "batch run skipped", "reason", err.Error())
		return &Summary{Unpublished: err.Error()}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("batch run for schedule event %s: %w", ev.ID, err)
	}
	slog.InfoContext(ctx, "batch run", "watermark", sum.Watermark, "hours", len(sum.Hours), "days", sum.Days,
		"objects", sum.Objects, "records", sum.Rows, "valid", sum.Valid, "duplicates", sum.Duplicates, "bad", sum.Bad)
	if h.Metrics != nil {
		var bad int64
		for _, n := range sum.Bad {
			bad += n
		}
		now := h.Now()
		if err := metrics.WriteEMF(h.Metrics, now, metrics.JobDimensions(), metrics.JobDimensionValues(h.Stage, metrics.LayerBatch),
			metrics.Value{Name: metrics.WatermarkAge, Unit: "Seconds", Value: watermarkAge(now, sum.Watermark)},
			metrics.Value{Name: metrics.HoursRebuilt, Unit: "Count", Value: float64(len(sum.Hours))},
			metrics.Value{Name: metrics.BadRecords, Unit: "Count", Value: float64(bad)}); err != nil {
			// The view is published; a lost metric line must not fail the run.
			slog.ErrorContext(ctx, "batch metrics", "error", err)
		}
	}
	return sum, nil
}

// watermarkAge is how far the watermark lags now, in seconds; with no
// watermark yet (nothing batched) it is the age of the Unix epoch, which
// any alarm threshold catches.
func watermarkAge(now, wm time.Time) float64 { return now.Sub(wm).Seconds() }

// MergeHandler is the scheduled (EventBridge) merge Lambda.
type MergeHandler struct {
	Views storage.Store
	Now   func() time.Time
	// Stage and Metrics as in BatchHandler (DaysMerged, SpeedObjects and
	// the serving view's WatermarkAgeSeconds).
	Stage   string
	Metrics io.Writer
}

// Handle publishes the serving view and returns the merge's summary.
func (h *MergeHandler) Handle(ctx context.Context, ev events.CloudWatchEvent) (*MergeSummary, error) {
	m := &Merger{Batch: h.Views, Speed: h.Views, Out: h.Views, Now: h.Now}
	sum, err := m.Run(ctx)
	if errors.Is(err, ErrNoBatchView) {
		// Until the first batch run there is no watermark to merge at.
		slog.InfoContext(ctx, "merge skipped", "reason", err.Error())
		return &MergeSummary{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("merge for schedule event %s: %w", ev.ID, err)
	}
	slog.InfoContext(ctx, "merge", "watermark", sum.Watermark, "days", sum.Days, "speed_objects", sum.SpeedObjects,
		"batch_objects", sum.BatchObjects, "hour_rows", sum.HourRows, "day_rows", sum.DayRows)
	if h.Metrics != nil {
		now := h.Now()
		if err := metrics.WriteEMF(h.Metrics, now, metrics.JobDimensions(), metrics.JobDimensionValues(h.Stage, metrics.LayerMerge),
			metrics.Value{Name: metrics.WatermarkAge, Unit: "Seconds", Value: watermarkAge(now, sum.Watermark)},
			metrics.Value{Name: metrics.DaysMerged, Unit: "Count", Value: float64(len(sum.Days))},
			metrics.Value{Name: metrics.SpeedObjects, Unit: "Count", Value: float64(sum.SpeedObjects)}); err != nil {
			slog.ErrorContext(ctx, "merge metrics", "error", err)
		}
	}
	return sum, nil
}
