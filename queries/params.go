package queries

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Parameter types. Each accepts only values that cannot change the shape of
// the statement, and renders them as one SQL literal.
const (
	// TypeTimestamp: 2026-11-22T10:04:05Z (any RFC 3339 offset),
	// "2026-11-22 10:04:05", "2026-11-22T10" or "now". Bound as a UTC
	// timestamp truncated to the second; rendered TIMESTAMP '2026-11-22 10:04:05'.
	TypeTimestamp = "timestamp"
	// TypeDt: a day, YYYY-MM-DD, compared with the string partition key
	// dt; rendered '2026-11-22'. It may also be given relative to the
	// query's reference time (see Query.Bind): "today" or "today-N", N
	// days before it.
	TypeDt = "dt"
	// TypeHour: an hour of the day, 0-23 (one or two digits), compared
	// with the string partition key hour; rendered '07'.
	TypeHour = "hour"
	// TypeInt: a whole number in [0, 1e9]; rendered as digits.
	TypeInt = "int"
	// TypeChoice: one of the words the declaration lists, written
	// choice:a|b (words of a-z, 0-9 and _); rendered 'a'.
	TypeChoice = "choice"
)

// Param is one parameter a query declares in its header:
//
//	-- param: NAME TYPE description
//
//	-- param: NAME TYPE=DEFAULT description
//
// The declarations are in the order of the ? placeholders in the SQL. A
// DEFAULT is the value taken when none is given, e.g. dt=today-30. A header
// with only the NAME of a parameter declared above puts the same value at
// one more placeholder (where a WITH params clause would hide it from
// Athena's partition pruning).
type Param struct {
	Name        string
	Type        string
	Default     string // "" when the parameter has none
	Description string
	// Choices are the words a TypeChoice parameter accepts.
	Choices []string
	// Again marks a second placeholder of a parameter declared before it
	// ("-- param: NAME" alone): it takes the same value.
	Again bool
}

// Value is a validated parameter value, ready for either engine.
type Value struct {
	Param Param
	// Literal is the value as one SQL literal: what Athena's execution
	// parameters substitute for the placeholder.
	Literal string
	// Go is the value a database/sql driver binds (time.Time in UTC,
	// string or int64).
	Go any
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	dtRE   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	daysRE = regexp.MustCompile(`^today(?:-([0-9]{1,5}))?$`)
	wordRE = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
)

// RefParam is the name of the timestamp parameter that, when a query
// declares it, is the reference time of the query's relative dt values.
const RefParam = "now"

func parseParam(v string) (Param, error) {
	f := strings.Fields(v)
	if len(f) < 3 {
		return Param{}, fmt.Errorf("param header %q: want NAME TYPE description", v)
	}
	p := Param{Name: f[0], Description: strings.Join(f[2:], " ")}
	p.Type, p.Default, _ = strings.Cut(f[1], "=")
	if !nameRE.MatchString(p.Name) {
		return p, fmt.Errorf("param name %q: want ^[a-z][a-z0-9_]{0,31}$", p.Name)
	}
	if t, words, ok := strings.Cut(p.Type, ":"); ok && t == TypeChoice {
		p.Type, p.Choices = TypeChoice, strings.Split(words, "|")
		for _, w := range p.Choices {
			if !wordRE.MatchString(w) {
				return p, fmt.Errorf("param %s: choice %q: want ^[a-z0-9_]{1,32}$", p.Name, w)
			}
		}
	}
	switch p.Type {
	case TypeTimestamp, TypeDt, TypeHour, TypeInt, TypeChoice:
	default:
		return p, fmt.Errorf("param %s: unknown type %q (timestamp, dt, hour, int, choice:a|b)", p.Name, p.Type)
	}
	if p.Default != "" {
		if _, err := p.value(p.Default, time.Unix(0, 0).UTC()); err != nil {
			return p, fmt.Errorf("param %s default: %w", p.Name, err)
		}
	}
	return p, nil
}

// segments splits sql at its ? placeholders, skipping those inside string
// literals, quoted names and comments: n placeholders give n+1 segments.
func segments(sql string) []string {
	var out []string
	last := 0
	for i := 0; i < len(sql); i++ {
		switch c := sql[i]; {
		case c == '\'' || c == '"':
			for i++; i < len(sql) && sql[i] != c; i++ {
			}
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for ; i < len(sql) && sql[i] != '\n'; i++ {
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
				break
			}
			i += end + 3
		case c == '?':
			out = append(out, sql[last:i])
			last = i + 1
		}
	}
	return append(out, sql[last:])
}

// Bind validates values (by parameter name) against the query's declared
// parameters and returns them in placeholder order. A parameter left out
// takes its declared default; a timestamp parameter without one, or given
// as "now", takes now (truncated to the second). Relative dt values
// (today, today-N) count from the reference time: the value of the query's
// "now" timestamp parameter when it declares one, so a query pinned to a
// time is pinned entirely, otherwise now. Unknown names and missing values
// without a default are errors.
func (q Query) Bind(values map[string]string, now time.Time) ([]Value, error) {
	declared := map[string]bool{}
	for _, p := range q.Params {
		declared[p.Name] = true
	}
	for k := range values {
		if !declared[k] {
			return nil, fmt.Errorf("query %s has no parameter %q%s", q.Name, k, q.paramList())
		}
	}
	bind := func(p Param, ref time.Time) (Value, error) {
		raw, ok := values[p.Name]
		if !ok && p.Default != "" {
			raw, ok = p.Default, true
		}
		if !ok && p.Type == TypeTimestamp {
			raw, ok = "now", true
		}
		if !ok {
			return Value{}, fmt.Errorf("query %s needs --param %s=… (%s: %s)", q.Name, p.Name, p.Type, p.Description)
		}
		v, err := p.value(strings.TrimSpace(raw), ref)
		if err != nil {
			return Value{}, fmt.Errorf("query %s parameter %s: %w", q.Name, p.Name, err)
		}
		return v, nil
	}
	ref := now
	for _, p := range q.Params {
		if p.Name == RefParam && p.Type == TypeTimestamp {
			v, err := bind(p, now)
			if err != nil {
				return nil, err
			}
			ref = v.Go.(time.Time)
		}
	}
	out := make([]Value, 0, len(q.Params))
	for _, p := range q.Params {
		v, err := bind(p, ref)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (q Query) paramList() string {
	if len(q.Params) == 0 {
		return " (it takes none)"
	}
	names := make([]string, len(q.Params))
	for i, p := range q.Params {
		names[i] = p.Name
	}
	return " (it takes " + strings.Join(names, ", ") + ")"
}

var timestampLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02"}

func (p Param) value(raw string, now time.Time) (Value, error) {
	v := Value{Param: p}
	switch p.Type {
	case TypeTimestamp:
		var t time.Time
		if raw == "now" {
			t = now
		} else {
			var err error
			for _, l := range timestampLayouts {
				if t, err = time.Parse(l, raw); err == nil {
					break
				}
			}
			if err != nil {
				return v, fmt.Errorf("%q is not a time: want RFC 3339, YYYY-MM-DD HH:MM:SS, YYYY-MM-DDTHH or now", raw)
			}
		}
		t = t.UTC().Truncate(time.Second)
		if t.Year() < 1970 || t.Year() > 9999 {
			return v, fmt.Errorf("%q is out of range", raw)
		}
		v.Go, v.Literal = t, "TIMESTAMP '"+t.Format("2006-01-02 15:04:05")+"'"
	case TypeDt:
		if m := daysRE.FindStringSubmatch(raw); m != nil {
			days, _ := strconv.Atoi(m[1]) // "" (today) gives 0
			raw = now.UTC().AddDate(0, 0, -days).Format("2006-01-02")
		}
		if !dtRE.MatchString(raw) {
			return v, fmt.Errorf("%q: want YYYY-MM-DD, today or today-N", raw)
		}
		if _, err := time.Parse("2006-01-02", raw); err != nil {
			return v, fmt.Errorf("%q is not a date", raw)
		}
		v.Go, v.Literal = raw, "'"+raw+"'"
	case TypeHour:
		h, err := strconv.Atoi(raw)
		if err != nil || len(raw) > 2 || h < 0 || h > 23 {
			return v, fmt.Errorf("%q: want an hour 0-23", raw)
		}
		s := fmt.Sprintf("%02d", h)
		v.Go, v.Literal = s, "'"+s+"'"
	case TypeInt:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 || n > 1e9 {
			return v, fmt.Errorf("%q: want a whole number 0-1000000000", raw)
		}
		v.Go, v.Literal = n, strconv.FormatInt(n, 10)
	case TypeChoice:
		if !slices.Contains(p.Choices, raw) {
			return v, fmt.Errorf("%q: want one of %s", raw, strings.Join(p.Choices, ", "))
		}
		v.Go, v.Literal = raw, "'"+raw+"'"
	}
	return v, nil
}

// Literals returns the values as SQL literals, in order: Athena's
// ExecutionParameters.
func Literals(vals []Value) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = v.Literal
	}
	return out
}

// Args returns the values as driver arguments, in order.
func Args(vals []Value) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v.Go
	}
	return out
}

// Substitute returns the query's SQL with each placeholder replaced by its
// value's literal: the statement Athena runs for these execution
// parameters. Values must come from Bind.
func (q Query) Substitute(vals []Value) (string, error) {
	segs := segments(q.SQL)
	if len(vals) != len(segs)-1 {
		return "", fmt.Errorf("query %s has %d placeholders, got %d values", q.Name, len(segs)-1, len(vals))
	}
	var b strings.Builder
	for i, s := range segs {
		b.WriteString(s)
		if i < len(vals) {
			b.WriteString(vals[i].Literal)
		}
	}
	return b.String(), nil
}
