package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Query is one named query.
type Query struct {
	// Name is the file name without .sql, e.g. "events_per_hour".
	Name string
	// Description is the text of the leading "-- " comment lines.
	Description string
	// SQL is the whole file.
	SQL string
}

// All returns every embedded query, sorted by name.
func All() ([]Query, error) {
	names, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("listing embedded queries: %w", err)
	}
	sort.Strings(names)
	out := make([]Query, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading embedded query %s: %w", n, err)
		}
		out = append(out, Query{
			Name:        strings.TrimSuffix(path.Base(n), ".sql"),
			Description: description(string(b)),
			SQL:         string(b),
		})
	}
	return out, nil
}

// description joins the leading "--" comment lines of a query.
func description(sql string) string {
	var parts []string
	for _, line := range strings.Split(sql, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		if t := strings.TrimSpace(strings.TrimPrefix(line, "--")); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}
