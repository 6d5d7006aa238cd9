package dashboard

import (
	"context"
	"fmt"
	"html"
	"image"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// FindChromium returns the path of a Chromium or Chrome binary on PATH, or
// "" when there is none.
func FindChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Screenshot renders page (a local HTML file) in headless Chromium bin and
// writes a PNG of the first 1280x1600 pixels to shot. profile is a
// scratch directory for the browser profile. It returns the browser's
// output for diagnosis.
func Screenshot(ctx context.Context, bin, page, shot, profile string) ([]byte, error) {
	abs, err := filepath.Abs(page)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir="+profile, "--screenshot="+shot, "--window-size=1280,1600",
		"file://"+abs)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("rendering %s in %s: %w", page, bin, err)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		return out, fmt.Errorf("rendering %s in %s: no screenshot written", page, bin)
	}
	return out, nil
}

// ChartColours are the colours that identify each chart in a screenshot:
// the layers of events per hour, the top event types and the rejected
// records (users per day uses the palette, none of which these share, and
// its own colour for all types).
var ChartColours = map[string]color.RGBA{
	"events per hour, batch": {0x00, 0x72, 0xb2, 0xff},
	"events per hour, speed": {0xe6, 0x9f, 0x00, 0xff},
	"top event types":        {0x00, 0x9e, 0x73, 0xff},
	"rejected records":       {0xd5, 0x5e, 0x00, 0xff},
	"users per day":          {0x56, 0xb4, 0xe9, 0xff}, // the first event type
	"daily active users":     {0x00, 0x00, 0x00, 0xff}, // users per day, all types
}

// CountColours counts the pixels of img within tol (per channel) of each
// colour, for checking a screenshot shows what it should.
func CountColours(img image.Image, want map[string]color.RGBA, tol int) map[string]int {
	counts := map[string]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			for name, c := range want {
				if near(r, c.R, tol) && near(g, c.G, tol) && near(bl, c.B, tol) {
					counts[name]++
				}
			}
		}
	}
	return counts
}

func near(v uint32, c uint8, tol int) bool {
	d := int(v>>8) - int(c)
	return d >= -tol && d <= tol
}

// RenderedText loads page in headless Chromium and returns the text of
// the document as laid out (--dump-dom after rendering), so a test can
// check the titles and labels the browser drew.
func RenderedText(ctx context.Context, bin, page, profile string) (string, error) {
	abs, err := filepath.Abs(page)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+profile, "--dump-dom", "file://"+abs)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("rendering %s in %s: %w\n%s", page, bin, err, stderr.String())
	}
	return html.UnescapeString(string(out)), nil
}
