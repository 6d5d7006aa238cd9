package queries

import (
	"encoding/csv"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Result is a query's result: column names and rows of values. Values are
// nil, string, int64, float64, bool, time.Time (UTC), []byte, []any or
// map[string]any as the engine returns them (Athena returns strings).
type Result struct {
	Columns []string
	Rows    [][]any
}

// Col returns the index of the named column, or -1.
func (r *Result) Col(name string) int {
	for i, c := range r.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// FormatValue renders one value for people and CSV: times as
// 2026-11-22 10:00:00 (UTC, milliseconds when present), floats without
// exponent noise, NULL as the empty string.
func FormatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return fmt.Sprintf("<%d bytes>", len(x))
	case time.Time:
		x = x.UTC()
		if x.Nanosecond() != 0 {
			return x.Format("2006-01-02 15:04:05.000")
		}
		return x.Format("2006-01-02 15:04:05")
	case float64:
		// 15 significant digits hide the noise of adding doubles
		// (68453.69999999998 prints as 68453.7).
		r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
		return strconv.FormatFloat(r, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case *big.Int:
		return x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = FormatValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + FormatValue(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// WriteTable prints r as an aligned text table with a header line, numbers
// right-aligned, and a closing "(N rows)".
func (r *Result) WriteTable(w io.Writer) error {
	cells := make([][]string, len(r.Rows))
	width := make([]int, len(r.Columns))
	numeric := make([]bool, len(r.Columns))
	for i, c := range r.Columns {
		width[i] = len(c)
		numeric[i] = true
	}
	for i, row := range r.Rows {
		cells[i] = make([]string, len(r.Columns))
		for j := range r.Columns {
			var v any
			if j < len(row) {
				v = row[j]
			}
			s := FormatValue(v)
			cells[i][j] = s
			width[j] = max(width[j], len(s))
			switch v.(type) {
			case nil, int64, int32, int, float64, float32, *big.Int:
			case string:
				if _, err := strconv.ParseFloat(s, 64); err != nil && s != "" {
					numeric[j] = false
				}
			default:
				numeric[j] = false
			}
		}
	}
	var b strings.Builder
	line := func(vals []string) {
		for j, s := range vals {
			if j > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[j]-len(s))
			if numeric[j] {
				b.WriteString(pad + s)
			} else if j == len(vals)-1 {
				b.WriteString(s)
			} else {
				b.WriteString(s + pad)
			}
		}
		b.WriteString("\n")
	}
	line(r.Columns)
	rule := make([]string, len(r.Columns))
	for j := range rule {
		rule[j] = strings.Repeat("-", width[j])
	}
	line(rule)
	for _, row := range cells {
		line(row)
	}
	n := "rows"
	if len(r.Rows) == 1 {
		n = "row"
	}
	fmt.Fprintf(&b, "(%d %s)\n", len(r.Rows), n)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCSV prints r as CSV with a header line.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	for _, row := range r.Rows {
		rec := make([]string, len(row))
		for j, v := range row {
			rec[j] = FormatValue(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
