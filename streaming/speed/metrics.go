package speed

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// MetricsNamespace is the CloudWatch namespace of the speed layer's metrics.
const MetricsNamespace = "lambdastack"

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
// (dimension Layer=speed), and one line per reason carries the invalid
// records of that reason (dimensions Layer, Reason).
func writeMetrics(w io.Writer, now time.Time, r *Result) error {
	ts := now.UnixMilli()
	names := []string{"Records", "UserRecords", "Events", "Duplicates", "InvalidRecords", "ObjectsWritten", "ObjectsFailed"}
	values := []int{r.Records, r.UserRecords, r.Events, r.Duplicates, r.InvalidTotal(), len(r.Objects), len(r.Failed)}
	metrics := make([]emfMetric, len(names))
	line := map[string]any{"Layer": "speed"}
	for i, n := range names {
		metrics[i] = emfMetric{Name: n, Unit: "Count"}
		line[n] = values[i]
	}
	line["_aws"] = emfMeta{Timestamp: ts, CloudWatchMetrics: []emfDirective{
		{Namespace: MetricsNamespace, Dimensions: [][]string{{"Layer"}}, Metrics: metrics}}}
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
				Dimensions: [][]string{{"Layer", "Reason"}}, Metrics: []emfMetric{{Name: "InvalidRecords", Unit: "Count"}}}}},
			"Layer": "speed", "Reason": reason, "InvalidRecords": r.Invalid[reason],
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
