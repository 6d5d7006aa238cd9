package duckhll

import (
	"fmt"
	"strings"
)

// Rewrite turns the Trino HyperLogLog forms of a statement into calls of
// the functions Register adds (see the package comment); everything else,
// string literals, quoted names and comments included, is kept as written.
// A merge() over anything but CAST(… AS HyperLogLog), or unbalanced
// parentheses, is an error.
func Rewrite(stmt string) (string, error) {
	out, err := rw(stmt)
	if err != nil {
		return "", fmt.Errorf("rewriting HyperLogLog SQL for DuckDB: %w", err)
	}
	return out, nil
}

func rw(s string) (string, error) {
	var b strings.Builder
	err := rewriteInto(&b, s)
	return b.String(), err
}

func rewriteInto(b *strings.Builder, s string) error {
	for i := 0; i < len(s); {
		if n := skipQuoted(s, i); n > i {
			b.WriteString(s[i:n])
			i = n
			continue
		}
		if !isIdentStart(s[i]) || (i > 0 && (isIdent(s[i-1]) || s[i-1] == '.')) {
			b.WriteByte(s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isIdent(s[j]) {
			j++
		}
		name := s[i:j]
		open := j
		for open < len(s) && isSpace(s[open]) {
			open++
		}
		switch strings.ToLower(name) {
		case "approx_set", "merge", "cardinality", "cast":
		default:
			b.WriteString(name)
			i = j
			continue
		}
		if open >= len(s) || s[open] != '(' {
			b.WriteString(name)
			i = j
			continue
		}
		end, err := closing(s, open)
		if err != nil {
			return err
		}
		out, err := rewriteCall(strings.ToLower(name), name, s[open+1:end])
		if err != nil {
			return err
		}
		b.WriteString(out)
		i = end + 1
	}
	return nil
}

// rewriteCall rewrites one call of name (lower is its lower case) with the
// argument text arg.
func rewriteCall(lower, name, arg string) (string, error) {
	inner, err := rw(arg)
	if err != nil {
		return "", err
	}
	switch lower {
	case "approx_set":
		return FuncApproxSet + "(list(" + inner + "))", nil
	case "merge":
		expr, ok := hllCast(arg)
		if !ok {
			return "", fmt.Errorf("merge(%s): only merge(CAST(… AS HyperLogLog)) is rewritten", strings.TrimSpace(arg))
		}
		e, err := rw(expr)
		if err != nil {
			return "", err
		}
		return FuncMerge + "(list(" + e + "))", nil
	case "cardinality":
		if _, ok := hllCast(arg); ok || isFuncCall(strings.TrimSpace(inner), "hll_") {
			return FuncCardinality + "(" + inner + ")", nil
		}
		return name + "(" + inner + ")", nil
	}
	// CAST
	expr, typ, ok := splitAs(arg)
	if ok {
		switch strings.ToLower(strings.TrimSpace(typ)) {
		case "hyperloglog":
			return rw(expr)
		case "varbinary":
			e, err := rw(expr)
			if err != nil {
				return "", err
			}
			if isFuncCall(strings.TrimSpace(e), "hll_") {
				return strings.TrimSpace(e), nil
			}
		}
	}
	return name + "(" + inner + ")", nil
}

// hllCast returns x when arg is CAST(x AS HyperLogLog).
func hllCast(arg string) (string, bool) {
	arg = strings.TrimSpace(arg)
	if !isFuncCall(arg, "cast") {
		return "", false
	}
	open := strings.IndexByte(arg, '(')
	expr, typ, ok := splitAs(arg[open+1 : len(arg)-1])
	if !ok || !strings.EqualFold(strings.TrimSpace(typ), "hyperloglog") {
		return "", false
	}
	return expr, true
}

// isFuncCall reports whether s is one call, NAME(…), of a function whose
// name starts with prefix (any case).
func isFuncCall(s, prefix string) bool {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return false
	}
	j := 0
	for j < len(s) && isIdent(s[j]) {
		j++
	}
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '(' {
		return false
	}
	end, err := closing(s, j)
	return err == nil && end == len(s)-1
}

// splitAs splits a CAST argument at its last top-level AS.
func splitAs(arg string) (expr, typ string, ok bool) {
	depth, at := 0, -1
	for i := 0; i < len(arg); {
		if n := skipQuoted(arg, i); n > i {
			i = n
			continue
		}
		switch c := arg[i]; {
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && (c == 'a' || c == 'A') && i+2 <= len(arg) && strings.EqualFold(arg[i:i+2], "as") &&
			(i == 0 || !isIdent(arg[i-1])) && (i+2 == len(arg) || !isIdent(arg[i+2])):
			at = i
		}
		i++
	}
	if at < 0 {
		return "", "", false
	}
	return strings.TrimSpace(arg[:at]), arg[at+2:], true
}

// closing returns the index of the parenthesis closing the one at open.
func closing(s string, open int) (int, error) {
	depth := 0
	for i := open; i < len(s); {
		if n := skipQuoted(s, i); n > i {
			i = n
			continue
		}
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
		i++
	}
	return 0, fmt.Errorf("the parenthesis at offset %d is not closed", open)
}

// skipQuoted returns the end of the string literal, quoted name or comment
// starting at i, or i when none starts there.
func skipQuoted(s string, i int) int {
	switch {
	case s[i] == '\'' || s[i] == '"':
		q := s[i]
		for j := i + 1; j < len(s); j++ {
			if s[j] == q {
				if j+1 < len(s) && s[j+1] == q {
					j++
					continue
				}
				return j + 1
			}
		}
		return len(s)
	case strings.HasPrefix(s[i:], "--"):
		if n := strings.IndexByte(s[i:], '\n'); n >= 0 {
			return i + n + 1
		}
		return len(s)
	case strings.HasPrefix(s[i:], "/*"):
		if n := strings.Index(s[i+2:], "*/"); n >= 0 {
			return i + 2 + n + 2
		}
		return len(s)
	}
	return i
}

func isIdentStart(c byte) bool { return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isIdent(c byte) bool      { return isIdentStart(c) || '0' <= c && c <= '9' }
func isSpace(c byte) bool      { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
