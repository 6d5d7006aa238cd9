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
