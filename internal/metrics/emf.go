package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Value is one metric value of an EMF line.
type Value struct {
	Name  string
	Unit  string // Count, Seconds, …
	Value float64
}

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

// WriteEMF writes one CloudWatch Embedded Metric Format line to w (a
// Lambda's standard output): CloudWatch Logs turns it into metrics in
// Namespace with the dimension set dimNames, whose values come from dims.
// No metric API call is made.
func WriteEMF(w io.Writer, at time.Time, dimNames []string, dims map[string]string, values ...Value) error {
	line := make(map[string]any, len(dims)+len(values)+1)
	for _, d := range dimNames {
		v, ok := dims[d]
		if !ok || v == "" {
			return fmt.Errorf("writing metrics: no value for the %s dimension", d)
		}
		line[d] = v
	}
	ms := make([]emfMetric, len(values))
	for i, v := range values {
		ms[i] = emfMetric{Name: v.Name, Unit: v.Unit}
		line[v.Name] = v.Value
	}
	line["_aws"] = emfMeta{Timestamp: at.UnixMilli(), CloudWatchMetrics: []emfDirective{
		{Namespace: Namespace, Dimensions: [][]string{dimNames}, Metrics: ms}}}
	data, err := json.Marshal(line)
	if err != nil {
		return fmt.Errorf("encoding a metric line: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing a metric line: %w", err)
	}
	return nil
}
