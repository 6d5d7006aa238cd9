package dashboard_test

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/dashboard"
	"github.com/lambdastack/lambdastack/queries"
)

var keep = flag.String("screenshot", "", "also write the screenshot of the rendered page here")

func sample() dashboard.Data {
	h0 := time.Date(2026, 11, 21, 20, 0, 0, 0, time.UTC)
	wm := h0.Add(10 * time.Hour)
	eph := &queries.Result{Columns: []string{"window_start", "event_type", "layer", "events", "value_sum"}}
	for i := range 14 {
		h := h0.Add(time.Duration(i) * time.Hour)
		layer := "batch"
		if !h.Before(wm) {
			layer = "speed"
		}
		eph.Rows = append(eph.Rows, []any{h, "click", layer, int64(100 + 10*i), 0.0}, []any{h, "page_view", layer, int64(200 - 5*i), 0.0})
	}
	return dashboard.Data{
		Title:     "lambdastack demo",
		Generated: wm.Add(90 * time.Minute),
		Summary:   []string{"generated 1000", "reconciliation OK <all>"},
		Results: map[string]*queries.Result{
			"events_per_hour": eph,
			"users_per_day": {Columns: []string{"day", "event_type", "users", "layer"}, Rows: [][]any{
				{h0.Truncate(24 * time.Hour), "*", int64(150), "batch"},
				{h0.Truncate(24 * time.Hour), "click", int64(80), "batch"}, {h0.Truncate(24 * time.Hour), "page_view", int64(95), "batch"},
				{h0.Truncate(24 * time.Hour).Add(24 * time.Hour), "*", int64(120), "speed"},
				{h0.Truncate(24 * time.Hour).Add(24 * time.Hour), "click", int64(120), "speed"},
			}},
			"top_event_types": {Columns: []string{"event_type", "events", "value_sum"}, Rows: [][]any{
				{"page_view", int64(2400), 0.0}, {"click", int64(2000), 0.0}, {"purchase", int64(300), 4521.5},
			}},
			"rejected_by_reason": {Columns: []string{"day", "reason", "records"}, Rows: [][]any{
				{"2026-11-21", "bad_type", int64(7)}, {"2026-11-22", "bad_type", int64(3)}, {"2026-11-22", "invalid_json", int64(12)},
			}},
			"freshness": {Columns: []string{"watermark", "newest_hour", "lag_seconds"}, Rows: [][]any{{wm, h0.Add(13 * time.Hour), int64(5400)}}},
		},
	}
}

// labels are the axis titles, units and windows every rendering must show.
var labels = []string{
	"hour (UTC)", "events per hour", "day (UTC)", "events per day", "distinct users", "events (24 hours)", "records rejected",
	"hours 2026-11-21 20:00 to 2026-11-22 10:00 UTC", "the 24 hours before the page was generated",
	"days 2026-11-21 to 2026-11-22 UTC (by day received", "the watermark day is part batch, part speed",
}

func TestRenderSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := dashboard.Render(&b, sample()); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, id := range []string{"chart-events-per-hour", "chart-events-per-day", "chart-users-per-day", "chart-top-event-types", "chart-rejected"} {
		i := strings.Index(page, `id="`+id+`"`)
		if i < 0 {
			t.Fatalf("no %s", id)
		}
		if j := strings.Index(page[i:], "</div>\n"); !strings.Contains(page[i:i+j], "<svg") {
			t.Errorf("%s has no chart", id)
		}
	}
	// 14 hours x 2 layers stacked, minus nothing: 14 batch+speed rects.
	if n := strings.Count(page, `fill="#0072b2"><title>`) + strings.Count(page, `fill="#e69f00"><title>`); n < 14 {
		t.Errorf("%d layer bars", n)
	}
	for _, s := range []string{"bad_type: 10", "invalid_json: 12", "watermark 06:00 UTC", "reconciliation OK &lt;all&gt;", "Batch watermark 2026-11-22 06:00 UTC (1h30m0s ago)",
		"2026-11-21 all types (daily active users): 150", "2026-11-22 all types (daily active users): 120", "2026-11-21 page_view: 95"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	for _, s := range labels {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks the label %q", s)
		}
	}
	// The watermark day shows its batch part and its speed part: sample
	// hours 20h-05h are batch (Nov 21: 4 hours, Nov 22: 6), 06h-09h speed.
	for _, s := range []string{"2026-11-22 batch: ", "2026-11-22 speed: ", "2026-11-21 batch: "} {
		if !strings.Contains(page, s) {
			t.Errorf("events per day lacks %q", s)
		}
	}
	if strings.Contains(page, "2026-11-21 speed: ") {
		t.Error("a day wholly before the watermark has a speed part")
	}
	// The users chart shows distinct users, not a sum that overcounts.
	if strings.Contains(strings.ToLower(page), "overcount") || strings.Contains(page, "counts in both") {
		t.Error("the users chart still says it overcounts")
	}
	// Nothing is fetched: no src or href attributes, no scripts, and the
	// only URL is the SVG namespace.
	if regexp.MustCompile(`(?i)(src=|href=|<script|url\()`).MatchString(page) {
		t.Error("page refers to outside resources")
	}
	for _, u := range regexp.MustCompile(`https?://[^"' ]+`).FindAllString(page, -1) {
		if u != "http://www.w3.org/2000/svg" {
			t.Errorf("page mentions %s", u)
		}
	}
}

func TestRenderEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := dashboard.Render(&b, dashboard.Data{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"No hourly rows", "No day rows in the users view", "No events in the last 24 hours", "No rejected records", "No watermark yet"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("empty page lacks %q", s)
		}
	}
}

// TestScreenshot renders the page in headless Chromium and checks the
// screenshot shows each chart's colours.
func TestScreenshot(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "dashboard.html")
	var b bytes.Buffer
	if err := dashboard.Render(&b, sample()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(page, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "dashboard.png")
	Screenshot(t, page, shot)
	if *keep != "" {
		data, _ := os.ReadFile(shot)
		os.WriteFile(*keep, data, 0o644)
	}
	CheckColours(t, shot)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	text, err := dashboard.RenderedText(ctx, dashboard.FindChromium(), page, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(labels, "Events per day, by layer", "Rejected records by reason", "watermark 06:00 UTC") {
		if !strings.Contains(text, s) {
			t.Errorf("the rendered page lacks %q", s)
		}
	}
}

// Screenshot renders page to shot, or skips (this part only) when no
// Chromium is installed.
func Screenshot(t *testing.T, page, shot string) {
	t.Helper()
	bin := dashboard.FindChromium()
	if bin == "" {
		t.Skip("no Chromium on PATH (chromium, chromium-browser, google-chrome): install Debian's chromium package (make chromium) to check the rendering; the HTML checks ran")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if out, err := dashboard.Screenshot(ctx, bin, page, shot, t.TempDir()); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// CheckColours fails unless the screenshot holds at least 200 pixels of
// each chart's colour.
func CheckColours(t *testing.T, shot string) {
	t.Helper()
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	for name, n := range dashboard.CountColours(img, dashboard.ChartColours, 6) {
		if n < 200 {
			t.Errorf("screenshot shows %d pixels of the %s colour", n, name)
		}
	}
	if got := len(dashboard.CountColours(img, dashboard.ChartColours, 6)); got != len(dashboard.ChartColours) {
		t.Errorf("screenshot shows %d of the %d chart colours", got, len(dashboard.ChartColours))
	}
}
