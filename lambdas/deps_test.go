// Package lambdas_test holds checks over every Lambda main under lambdas/.
package lambdas_test

import (
	"os/exec"
	"strings"
	"testing"
)

// No Lambda links DuckDB (cgo, tens of MB, and a query engine no handler
// runs): go list -deps of each main under lambdas/ must not reach go-duckdb
// or its bindings.
func TestNoDuckDBInLambdas(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", `{{if eq .Name "main"}}main {{.ImportPath}}{{else}}{{.ImportPath}}{{end}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps ./...: %v\n%s", err, out)
	}
	mains := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.HasPrefix(line, "main ") {
			mains++
		}
	}
	if mains < 4 {
		t.Fatalf("found %d Lambda mains under lambdas/, want at least 4:\n%s", mains, out)
	}
	// One listing per main, so a hit names the Lambda.
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		main, ok := strings.CutPrefix(line, "main ")
		if !ok {
			continue
		}
		deps, err := exec.Command("go", "list", "-deps", main).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", main, err, deps)
		}
		for _, d := range strings.Fields(string(deps)) {
			if strings.Contains(d, "go-duckdb") || strings.Contains(d, "duckdb-go-bindings") {
				t.Errorf("%s links %s: DuckDB must stay out of Lambda binaries", main, d)
			}
		}
	}
}
