package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info is used.
var version = ""

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of lambdastack, the commit it was built from, and Go's version",
		usage:   "Prints the lambdastack module version, the VCS revision it was built from (with +dirty for\nuncommitted changes), the Go version and the platform. Needs nothing.",
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			return func(_ context.Context, env *cliEnv, _ []string) error {
				bi, _ := debug.ReadBuildInfo()
				_, err := fmt.Fprintf(env.stdout, "lambdastack %s %s %s/%s\n", versionString(bi, version), runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return err
			}
		},
	})
}

// versionString is the module version (or the -X override) and the VCS
// revision and time from the build info: "v1.2.0", "(devel) 1a2b3c4d5e6f
// 2026-11-30T10:00:00Z+dirty". Without build info it says so.
func versionString(bi *debug.BuildInfo, override string) string {
	if bi == nil {
		if override != "" {
			return override
		}
		return "(no build info)"
	}
	v := bi.Main.Version
	if override != "" {
		v = override
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, when string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return v + " (no VCS revision: built outside a git checkout or with -buildvcs=false)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if strings.Contains(v, rev) {
		return v // a pseudo-version the go command derived from the same commit (and +dirty)
	}
	v += " " + rev
	if when != "" {
		v += " " + when
	}
	if dirty {
		v += "+dirty"
	}
	return v
}
