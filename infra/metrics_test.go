package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/metrics"
)

// TestMetricsCarryTheFunctionsStage checks, in two stages, that the
// functions writing metrics (speed, batch, merge) get STAGE and that every
// alarm and dashboard metric in lambdastack's namespace uses exactly the
// dimensions one of them writes (internal/metrics) with that stage:
// otherwise the alarms watch a series nobody writes, or two stages' series
// mixed.
func TestMetricsCarryTheFunctionsStage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		s     func(*testing.T) *synthesized
		stage string
	}{
		{"default", defaultStack, "dev"},
		{"quicksight", quickSightStack, "qs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s(t)
			writers := 0
			for id, p := range s.resources("AWS::Lambda::Function") {
				desc := fmt.Sprint(p["Description"])
				if !strings.HasPrefix(desc, "Speed layer") && !strings.HasPrefix(desc, "Batch") && !strings.HasPrefix(desc, "Serving") {
					continue
				}
				writers++
				env, _ := p["Environment"].(map[string]interface{})
				vars, _ := env["Variables"].(map[string]interface{})
				if v, ok := vars["STAGE"].(string); !ok || v != tc.stage {
					t.Fatalf("function %s (%s): STAGE %v, want the stack's stage %q", id, desc, vars["STAGE"], tc.stage)
				}
			}
			if writers != 3 {
				t.Fatalf("found %d metric-writing functions, want speed, batch and merge", writers)
			}
			stage := tc.stage
			allowed := map[string]bool{
				dimString(metrics.SpeedDimensionValues(stage)):                   true,
				dimString(metrics.JobDimensionValues(stage, metrics.LayerBatch)): true,
				dimString(metrics.JobDimensionValues(stage, metrics.LayerMerge)): true,
			}
			want := "one of " + strings.Join(keys(allowed), " | ")

			alarms := 0
			for id, p := range s.resources("AWS::CloudWatch::Alarm") {
				if p["Namespace"] != metrics.Namespace {
					continue
				}
				alarms++
				got := map[string]string{}
				dims, _ := p["Dimensions"].([]interface{})
				for _, d := range dims {
					m := d.(map[string]interface{})
					got[fmt.Sprint(m["Name"])] = fmt.Sprint(m["Value"])
				}
				if !allowed[dimString(got)] {
					t.Errorf("alarm %s on %v: dimensions %s, want %s", id, p["MetricName"], dimString(got), want)
				}
			}
			if alarms == 0 {
				t.Errorf("no alarm on the %s namespace", metrics.Namespace)
			}

			widgetMetrics, searches := 0, 0
			for id, p := range s.resources("AWS::CloudWatch::Dashboard") {
				var body struct {
					Widgets []struct {
						Properties struct {
							Metrics [][]interface{} `json:"metrics"`
						} `json:"properties"`
					} `json:"widgets"`
				}
				text := flattenJoin(p["DashboardBody"])
				if err := json.Unmarshal([]byte(text), &body); err != nil {
					t.Fatalf("dashboard %s: %v\n%s", id, err, text)
				}
				for _, w := range body.Widgets {
					for _, m := range w.Properties.Metrics {
						if len(m) == 0 {
							continue
						}
						if ns, _ := m[0].(string); ns == metrics.Namespace {
							widgetMetrics++
							got := map[string]string{}
							for i := 2; i+1 < len(m); i += 2 {
								k, ok1 := m[i].(string)
								v, ok2 := m[i+1].(string)
								if !ok1 || !ok2 {
									break
								}
								got[k] = v
							}
							if !allowed[dimString(got)] {
								t.Errorf("dashboard metric %v: dimensions %s, want %s", m, dimString(got), want)
							}
						}
						if e, ok := m[0].(map[string]interface{}); ok {
							expr := fmt.Sprint(e["expression"])
							if !strings.Contains(expr, "{"+metrics.Namespace+",") {
								continue
							}
							searches++
							schema := "{" + metrics.Namespace + "," + strings.Join(metrics.SpeedReasonDimensions(), ",") + "}"
							if !strings.Contains(expr, schema) || !strings.Contains(expr, metrics.DimStage+`="`+stage+`"`) {
								t.Errorf("dashboard search %q: want schema %s and %s=%q", expr, schema, metrics.DimStage, stage)
							}
						}
					}
				}
			}
			if widgetMetrics == 0 || searches == 0 {
				t.Errorf("the dashboard draws %d speed metrics and %d searches, want some of each", widgetMetrics, searches)
			}
		})
	}
}

// dimString renders a dimension map in a fixed order.
func dimString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s;", k, m[k])
	}
	return b.String()
}

// flattenJoin turns a dashboard body (a string, or an Fn::Join of strings
// and references) into text, each reference as the word TOKEN.
func flattenJoin(v interface{}) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]interface{}:
		if j, ok := x["Fn::Join"].([]interface{}); ok && len(j) == 2 {
			parts, _ := j[1].([]interface{})
			out := make([]string, len(parts))
			for i, p := range parts {
				if s, ok := p.(string); ok {
					out[i] = s
				} else {
					out[i] = "TOKEN"
				}
			}
			return strings.Join(out, fmt.Sprint(j[0]))
		}
	}
	return "TOKEN"
}
