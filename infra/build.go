package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Lambda entry points, relative to the module root (package main, each
// calling lambda.Start).
const (
	TransformEntry = "lambdas/transform"
	SpeedEntry     = "lambdas/speed"
	BatchEntry     = "lambdas/batch"
	MergeEntry     = "lambdas/merge"
)

// LambdaEntries are the entry points the stack deploys.
var LambdaEntries = []string{TransformEntry, SpeedEntry, BatchEntry, MergeEntry}

// moduleRoot walks up from dir to the directory holding go.mod.
func moduleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding the module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("finding the module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// buildBootstraps cross-compiles each entry point (relative to root) for
// Lambda's provided.al2023 arm64 runtime into <outDir>/<base name>/bootstrap,
// in one go build invocation, and returns the asset directory per entry.
// The build is reproducible (-trimpath, no build id), so an unchanged
// function keeps its asset hash and is not redeployed.
func buildBootstraps(root, outDir string, entries []string) (map[string]string, error) {
	if len(entries) == 0 {
		return map[string]string{}, nil
	}
	binDir := filepath.Join(outDir, "bin")
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the Lambda build directory: %w", err)
	}
	args := []string{"build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid=", "-o", binDir + string(filepath.Separator)}
	for _, e := range entries {
		args = append(args, "./"+filepath.ToSlash(e))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building Lambda bootstraps (go %s): %w\n%s", strings.Join(args, " "), err, out)
	}
	dirs := make(map[string]string, len(entries))
	for _, e := range entries {
		name := filepath.Base(e)
		dir := filepath.Join(outDir, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating the asset directory of %s: %w", e, err)
		}
		if err := os.Rename(filepath.Join(binDir, name), filepath.Join(dir, "bootstrap")); err != nil {
			return nil, fmt.Errorf("moving the %s bootstrap into its asset directory: %w", e, err)
		}
		dirs[e] = dir
	}
	return dirs, nil
}
