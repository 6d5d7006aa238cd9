package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// the module version from the build info is used.
var version = ""

func init() {
	register(&command{
		name:    "version",
		summary: "print the version of lambdastack and of Go it was built with",
		usage:   "Prints the lambdastack version, the Go version and the platform. Needs nothing.",
		setup: func(fs *flag.FlagSet) func(context.Context, *cliEnv, []string) error {
			return func(_ context.Context, env *cliEnv, _ []string) error {
				v := version
				if v == "" {
					v = "(devel)"
					if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
						v = bi.Main.Version
					}
				}
				_, err := fmt.Fprintf(env.stdout, "lambdastack %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
				return err
			}
		},
	})
}
