package queries

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

//go:embed *.sql
var files embed.FS

// Query is one named query.
type Query struct {
	Name        string
	Description string
	SQL         string // the whole file, header included
	// Params are the declared parameters, in placeholder order.
	Params []Param
	// Limit is the row count of the query's closing LIMIT clause, 0 when
	// it has none: a result with that many rows may have been cut.
	Limit int
}

// limitClause is a closing LIMIT n.
var limitClause = regexp.MustCompile(`(?i)\bLIMIT\s+(\d+)\s*;?\s*$`)

// All returns every named query, sorted by name.
func All() ([]Query, error) {
	paths, err := fs.Glob(files, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, p := range paths {
		data, err := files.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("reading query %s: %w", p, err)
		}
		q, err := parse(string(data))
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", p, err)
		}
		if q.Name+".sql" != p {
			return nil, fmt.Errorf("query %s: header name %q does not match the file name", p, q.Name)
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the named query.
func Get(name string) (Query, error) {
	all, err := All()
	if err != nil {
		return Query{}, err
	}
	var names []string
	for _, q := range all {
		if q.Name == name {
			return q, nil
		}
		names = append(names, q.Name)
	}
	return Query{}, fmt.Errorf("no query named %q (have: %s)", name, strings.Join(names, ", "))
}

// again reads a "-- param: NAME" header naming a parameter declared above:
// the same parameter at one more placeholder.
func (q Query) again(v string) (Param, bool) {
	name := strings.TrimSpace(v)
	for _, p := range q.Params {
		if p.Name == name && !p.Again {
			p.Again = true
			return p, true
		}
	}
	return Param{}, false
}

func parse(text string) (Query, error) {
	q := Query{SQL: text}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") {
			break
		}
		k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "--")), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "name":
			q.Name = strings.TrimSpace(v)
		case "description":
			q.Description = strings.TrimSpace(v)
		case "param":
			if p, ok := q.again(v); ok {
				q.Params = append(q.Params, p)
				continue
			}
			p, err := parseParam(v)
			if err != nil {
				return q, err
			}
			for _, o := range q.Params {
				if o.Name == p.Name {
					return q, fmt.Errorf("param %s declared twice", p.Name)
				}
			}
			q.Params = append(q.Params, p)
		}
	}
	if q.Name == "" || q.Description == "" {
		return q, fmt.Errorf("missing -- name: or -- description: header")
	}
	if n := len(segments(text)) - 1; n != len(q.Params) {
		return q, fmt.Errorf("%d ? placeholders but %d -- param: headers", n, len(q.Params))
	}
	if m := limitClause.FindStringSubmatch(text); m != nil {
		q.Limit, _ = strconv.Atoi(m[1])
	}
	return q, nil
}
