package batch_test

import (
	"testing"

	"github.com/lambdastack/lambdastack/batch"
)

func TestNextLine(t *testing.T) {
	for _, c := range []struct {
		in, line, rest string
		blank          bool
	}{
		{"a\nb", "a", "b", false},
		{"a\r\nb\n", "a", "b\n", false},
		{"last", "last", "", false},
		{" \t\r\n{}", " \t", "{}", true},
		{"\n", "", "", true},
	} {
		line, rest, blank := batch.NextLine([]byte(c.in))
		if string(line) != c.line || string(rest) != c.rest || blank != c.blank {
			t.Errorf("NextLine(%q) = %q, %q, %v; want %q, %q, %v", c.in, line, rest, blank, c.line, c.rest, c.blank)
		}
	}
}
