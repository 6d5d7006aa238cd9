package dashboard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
