package event_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/internal/event"
)

// TestAppendJSONString checks strings of every kind of byte, at every
// offset of the eight-byte steps: the output reads back (encoding/json) as
// the input with each invalid byte as U+FFFD, and strings and bytes give
// the same output.
func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"":                             `""`,
		"plain text, long enough":      `"plain text, long enough"`,
		"a\"b\\c\nd\re\tf\x01g":        `"a\"b\\c\nd\re\tf\u0001g"`,
		"caf\u00e9 \xff end":           `"café \ufffd end"`,
		strings.Repeat("x", 17) + "\"": `"` + strings.Repeat("x", 17) + `\""`,
	} {
		if got := string(event.AppendJSONString(nil, in)); got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
	}
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\n", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\xff", "\xe2\x82", "/"}
	r := rand.New(rand.NewPCG(7, 8))
	for range 3000 {
		var b strings.Builder
		for range r.IntN(40) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		in := b.String()
		out := event.AppendJSONString([]byte("pre"), in)
		if string(out[:3]) != "pre" {
			t.Fatalf("%q: prefix lost: %s", in, out)
		}
		var back string
		if err := json.Unmarshal(out[3:], &back); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", in, out[3:], err)
		}
		var want strings.Builder
		for _, c := range in { // one U+FFFD per invalid byte
			want.WriteRune(c)
		}
		if back != want.String() {
			t.Fatalf("%q: reads back as %q, want %q", in, back, want.String())
		}
		if fromBytes := event.AppendJSONString([]byte("pre"), []byte(in)); string(fromBytes) != string(out) {
			t.Fatalf("%q: bytes give %s, string %s", in, fromBytes, out)
		}
	}
}
