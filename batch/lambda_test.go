package batch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/metrics"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		needRaw bool
		want    time.Duration
		wantErr bool
	}{
		{"defaults", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "STAGE": "dev"}, true, batch.DefaultLateness, false},
		{"lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "STAGE": "dev", "ALLOWED_LATENESS": "30m"}, true, 30 * time.Minute, false},
		{"merge needs no raw", map[string]string{"VIEWS_LOCATION": "s3://v/", "STAGE": "dev"}, false, batch.DefaultLateness, false},
		{"batch needs raw", map[string]string{"VIEWS_LOCATION": "s3://v/", "STAGE": "dev"}, true, 0, true},
		{"no views", map[string]string{"RAW_LOCATION": "s3://r/", "STAGE": "dev"}, true, 0, true},
		{"no stage", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/"}, true, 0, true},
		{"bad lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "STAGE": "dev", "ALLOWED_LATENESS": "soon"}, true, 0, true},
		{"negative lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "STAGE": "dev", "ALLOWED_LATENESS": "-1m"}, true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := batch.ConfigFromEnv(func(k string) string { return tc.env[k] }, tc.needRaw)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && (c.Lateness != tc.want || c.Stage != "dev") {
				t.Errorf("lateness %s stage %q, want %s dev", c.Lateness, c.Stage, tc.want)
			}
		})
	}
}

// The scheduled handlers run the same batch and merge on a schedule event.
func TestHandlers(t *testing.T) {
	ctx := context.Background()
	d := genEvents(9, 500, dataStart, dataEnd, 0.1)
	raw, views := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	writeSpeed(t, views, d.events)
	var bm, mm bytes.Buffer
	bh := &batch.BatchHandler{Raw: raw, Views: views, Lateness: batch.DefaultLateness, Now: fixedNow(runAt), Stage: "dev", Metrics: &bm}
	// A schedule event has no action: a build.
	var req batch.BatchRequest
	if err := json.Unmarshal([]byte(`{"id":"sched-1","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`), &req); err != nil {
		t.Fatal(err)
	}
	out, err := bh.Handle(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	res := out.(*batch.BatchResponse)
	wm := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if res.Status != batch.StatusOK || res.Hours == 0 || !res.Watermark.Equal(wm) {
		t.Fatalf("batch handler answered %+v, want ok with hours up to %s", res, wm)
	}
	wantAge := runAt.Sub(res.Watermark).Seconds()
	checkEMF(t, bm.Bytes(), metrics.LayerBatch, map[string]float64{
		metrics.WatermarkAge: wantAge, metrics.HoursRebuilt: float64(res.Hours), metrics.BadRecords: 0})
	if out, err := bh.Handle(ctx, batch.BatchRequest{Action: "build"}); err != nil || out.(*batch.BatchResponse).Status != batch.StatusSkipped {
		t.Errorf("a second build = %+v, %v; want skipped", out, err)
	}
	for _, action := range []string{"plan", "publish", "rebuild"} {
		if _, err := bh.Handle(ctx, batch.BatchRequest{Action: action}); err == nil {
			t.Errorf("action %s on the go engine succeeded, want an error", action)
		}
	}
	mh := &batch.MergeHandler{Views: views, Now: fixedNow(runAt), Stage: "dev", Metrics: &mm}
	mres, err := mh.Handle(ctx, json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if mres.Status != batch.StatusOK || !mres.Watermark.Equal(wm) || mres.Days == 0 {
		t.Errorf("merge handler: %+v", mres)
	}
	var days float64
	var speedObjects float64
	var emf map[string]any
	if err := json.Unmarshal(mm.Bytes(), &emf); err == nil {
		days, _ = emf[metrics.DaysMerged].(float64)
		speedObjects, _ = emf[metrics.SpeedObjects].(float64)
	}
	if speedObjects == 0 {
		t.Errorf("merge metrics %s: no speed objects", mm.Bytes())
	}
	checkEMF(t, mm.Bytes(), metrics.LayerMerge, map[string]float64{
		metrics.WatermarkAge: wantAge, metrics.DaysMerged: float64(mres.Days), metrics.SpeedObjects: speedObjects})
	if days != float64(mres.Days) {
		t.Errorf("DaysMerged %v, answered days %d", days, mres.Days)
	}
}

// checkEMF decodes one Embedded Metric Format line and checks its
// namespace, dimensions (Stage=dev, Layer=layer) and values.
func checkEMF(t *testing.T, line []byte, layer string, want map[string]float64) {
	t.Helper()
	var got map[string]any
	if err := json.Unmarshal(line, &got); err != nil {
		t.Fatalf("metric line %q: %v", line, err)
	}
	aws, _ := got["_aws"].(map[string]any)
	cw, _ := aws["CloudWatchMetrics"].([]any)
	if len(cw) != 1 {
		t.Fatalf("metric line %s: want one CloudWatchMetrics directive", line)
	}
	d := cw[0].(map[string]any)
	if d["Namespace"] != metrics.Namespace || fmt.Sprint(d["Dimensions"]) != "[[Stage Layer]]" ||
		got[metrics.DimStage] != "dev" || got[metrics.DimLayer] != layer {
		t.Fatalf("metric line %s: namespace, dimensions or their values wrong", line)
	}
	if n := len(d["Metrics"].([]any)); n != len(want) {
		t.Fatalf("metric line %s: %d metrics, want %d", line, n, len(want))
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s %s = %v, want %v", layer, name, got[name], v)
		}
	}
}

// A long run reports progress: objects, rows, MB/s and an ETA.
func TestProgress(t *testing.T) {
	d := genEvents(13, 300, dataStart, dataEnd, 0)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	var buf strings.Builder
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(2 * time.Second); return tick }
	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Progress: batch.NewProgress(&buf, clock)}
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if len(lines) < 2 || !strings.Contains(last, "objects ") || !strings.Contains(last, "MB/s, ETA") {
		t.Fatalf("progress output:\n%s", buf.String())
	}
}
