package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestObjectReader splits objects as encoding/json's Decoder does, on
// input read at once and one byte at a time (strings, escapes and braces
// straddling reads).
func TestObjectReader(t *testing.T) {
	in := " {\"a\":\"}\\\"{\\\\\"}\n{\"b\":[{\"c\":\"\\\\\\\"]\"}],\"d\":{}}{}\t\r\n"
	want := []string{"{\"a\":\"}\\\"{\\\\\"}", "{\"b\":[{\"c\":\"\\\\\\\"]\"}],\"d\":{}}", "{}"}
	for name, r := range map[string]func() io.Reader{
		"whole":       func() io.Reader { return strings.NewReader(in) },
		"byte a time": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
	} {
		o := newObjectReader(r())
		for i, w := range want {
			got, err := o.next()
			if err != nil || string(got) != w {
				t.Fatalf("%s: object %d = %q, %v; want %q", name, i+1, got, err, w)
			}
		}
		if got, err := o.next(); err != io.EOF {
			t.Fatalf("%s: after the last object: %q, %v; want EOF", name, got, err)
		}
	}
	// A large object crosses several fills and grows the buffer.
	big := `{"data":"` + strings.Repeat("QUJD", 3*objectChunk) + `"}`
	o := newObjectReader(iotest.HalfReader(strings.NewReader(big + big)))
	for i := range 2 {
		if got, err := o.next(); err != nil || string(got) != big {
			t.Fatalf("big object %d: %d bytes, %v", i+1, len(got), err)
		}
	}
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", io.EOF},
		{" \n", io.EOF},
		{"[1]", errNotObject},
		{`{"a":1}]`, errNotObject},
		{`{"a":"}`, io.ErrUnexpectedEOF},
		{`{"a":{}`, io.ErrUnexpectedEOF},
	} {
		o := newObjectReader(strings.NewReader(tc.in))
		var err error
		for err == nil {
			_, err = o.next()
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, err, tc.want)
		}
	}
	if _, err := newObjectReader(iotest.ErrReader(errors.New("disk on fire"))).next(); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("a read error: %v", err)
	}
}

// TestObjectReaderLines checks nextLine's guesses and again: a line that
// is one object comes back whole, with its newline; when the caller
// refuses a guess (an object over several lines, two on one line), again
// gives the object found by counting braces, and the reader guesses no
// more.
func TestObjectReaderLines(t *testing.T) {
	one := func(s string) bool { // what the handler confirms: exactly one object
		o := newObjectReader(strings.NewReader(s))
		obj, err := o.next()
		if err != nil {
			return false
		}
		_, err = o.next()
		return err == io.EOF && strings.HasPrefix(s, string(obj))
	}
	for _, tc := range []struct {
		name, in string
		want     []string
		misses   int // how many guesses the caller refuses
	}{
		{"one a line", "{\"a\":1}\n  {\"b\":\"}\\\"\"}\n{}", []string{"{\"a\":1}\n", "{\"b\":\"}\\\"\"}\n", "{}"}, 0},
		{"over lines", "{\"a\":1}\n{\n\"b\":2}\n{\"c\":3}\n", []string{"{\"a\":1}\n", "{\n\"b\":2}", "{\"c\":3}"}, 1},
		{"two on a line", "{\"a\":1}{\"b\":2}\n{\"c\":3}\n", []string{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}, 1},
	} {
		for name, r := range map[string]func() io.Reader{
			"whole":       func() io.Reader { return strings.NewReader(tc.in) },
			"byte a time": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tc.in)) },
		} {
			o := newObjectReader(r())
			misses := 0
			for i, w := range tc.want {
				got, guess, err := o.nextLine()
				if guess && !one(string(got)) {
					misses++
					got, err = o.again()
				}
				if err != nil || string(got) != w {
					t.Fatalf("%s, %s: object %d = %q, %v; want %q", tc.name, name, i+1, got, err, w)
				}
			}
			if got, _, err := o.nextLine(); err != io.EOF {
				t.Fatalf("%s, %s: after the last object: %q, %v; want EOF", tc.name, name, got, err)
			}
			if misses != tc.misses {
				t.Errorf("%s, %s: %d guesses refused, want %d", tc.name, name, misses, tc.misses)
			}
		}
	}
	// No newline within maxLine: the object is found by counting braces.
	big := `{"data":"` + strings.Repeat("QUJD", maxLine/4) + `"}`
	o := newObjectReader(strings.NewReader(big + big + "\n"))
	for i := range 2 {
		if got, guess, err := o.nextLine(); err != nil || guess || string(got) != big {
			t.Fatalf("long line, object %d: %d bytes, %v", i+1, len(got), err)
		}
	}
	if _, _, err := newObjectReader(strings.NewReader(" [1]\n")).nextLine(); !errors.Is(err, errNotObject) {
		t.Errorf("an array: %v, want errNotObject", err)
	}
}
