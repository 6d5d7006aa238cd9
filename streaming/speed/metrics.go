package speed

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lambdastack/lambdastack/internal/metrics"
)

// MetricsNamespace is the CloudWatch namespace of the speed layer's metrics.
const MetricsNamespace = metrics.Namespace

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMeta struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

// writeMetrics writes the invocation's metrics as CloudWatch Embedded
// Metric Format lines: CloudWatch Logs turns them into metrics, so the
// handler makes no metric API calls. One line carries the batch counts
// (dimensions Stage, Layer=speed), and one line per reason carries the
// invalid records of that reason (dimensions Stage, Layer, Reason). The
// names are internal/metrics', which the CDK app's alarms use too.
func writeMetrics(w io.Writer, stage string, now time.Time, r *Result) error {
	if stage == "" {
		return fmt.Errorf("writing metrics: no stage for the %s dimension", metrics.DimStage)
	}
	ts := now.UnixMilli()
	names := metrics.SpeedMetrics()
	values := map[string]int{
		metrics.Records: r.Records, metrics.UserRecords: r.UserRecords, metrics.Events: r.Events,
		metrics.Duplicates: r.Duplicates, metrics.InvalidRecords: r.InvalidTotal(),
		metrics.ObjectsWritten: len(r.Objects), metrics.ObjectsFailed: len(r.Failed),
	}
	ms := make([]emfMetric, len(names))
	line := map[string]any{metrics.DimStage: stage, metrics.DimLayer: metrics.LayerSpeed}
	for i, n := range names {
		ms[i] = emfMetric{Name: n, Unit: "Count"}
		line[n] = values[n]
	}
	line["_aws"] = emfMeta{Timestamp: ts, CloudWatchMetrics: []emfDirective{
		{Namespace: MetricsNamespace, Dimensions: [][]string{metrics.SpeedDimensions()}, Metrics: ms}}}
	if err := writeLine(w, line); err != nil {
		return err
	}
	reasons := make([]string, 0, len(r.Invalid))
	for reason, n := range r.Invalid {
		if n > 0 {
			reasons = append(reasons, reason)
		}
	}
	slices.Sort(reasons)
	for _, reason := range reasons {
		line := map[string]any{
			"_aws": emfMeta{Timestamp: ts, CloudWatchMetrics: []emfDirective{{Namespace: MetricsNamespace,
				Dimensions: [][]string{metrics.SpeedReasonDimensions()}, Metrics: []emfMetric{{Name: metrics.InvalidRecords, Unit: "Count"}}}}},
			metrics.DimStage: stage, metrics.DimLayer: metrics.LayerSpeed, metrics.DimReason: reason,
			metrics.InvalidRecords: r.Invalid[reason],
		}
		if err := writeLine(w, line); err != nil {
			return err
		}
	}
	return nil
}

func writeLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding a metric line: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing a metric line: %w", err)
	}
	return nil
}
