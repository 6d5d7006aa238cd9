package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionString(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/lambdastack/lambdastack", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"},
			{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name     string
		bi       *debug.BuildInfo
		override string
		want     string
	}{
		{"module and revision", bi, "", "v0.3.0 0123456789ab 2026-11-30T10:00:00Z+dirty"},
		{"override", bi, "v9", "v9 0123456789ab 2026-11-30T10:00:00Z+dirty"},
		{"pseudo-version of the same commit", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201084926-0123456789ab+dirty"},
			Settings: bi.Settings}, "", "v0.0.0-20261201084926-0123456789ab+dirty"},
		{"no vcs", &debug.BuildInfo{}, "", "(devel) (no VCS revision: built outside a git checkout or with -buildvcs=false)"},
		{"no build info", nil, "", "(no build info)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := versionString(tc.bi, tc.override); got != tc.want {
				t.Errorf("versionString = %q, want %q", got, tc.want)
			}
		})
	}
	// The test binary has build info: its main module is this one.
	code, out, _ := runCLI(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "lambdastack ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}
