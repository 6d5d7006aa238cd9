package speed

import (
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/lambdastack/lambdastack/internal/metrics"
)

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
	counts := map[string]int{
		metrics.Records: r.Records, metrics.UserRecords: r.UserRecords, metrics.Events: r.Events,
		metrics.Duplicates: r.Duplicates, metrics.InvalidRecords: r.InvalidTotal(),
		metrics.ObjectsWritten: len(r.Objects), metrics.ObjectsFailed: len(r.Failed),
	}
	var values []metrics.Value
	for _, n := range metrics.SpeedMetrics() {
		values = append(values, metrics.Value{Name: n, Unit: "Count", Value: float64(counts[n])})
	}
	dims := metrics.SpeedDimensionValues(stage)
	if err := metrics.WriteEMF(w, now, metrics.SpeedDimensions(), dims, values...); err != nil {
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
		dims[metrics.DimReason] = reason
		if err := metrics.WriteEMF(w, now, metrics.SpeedReasonDimensions(), dims,
			metrics.Value{Name: metrics.InvalidRecords, Unit: "Count", Value: float64(r.Invalid[reason])}); err != nil {
			return err
		}
	}
	return nil
}
