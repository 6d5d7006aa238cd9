package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// objectReader splits a stream of JSON objects that follow one another
// (with or without whitespace between them, as generate --format firehose
// and kinesis write them) without decoding them: it finds where each one
// ends by counting braces outside strings. It leaves the syntax of what is
// inside to the handler that reads the object, which checks it anyway, so
// each byte is parsed once; encoding/json's Decoder, which validates every
// value, made splitting cost three times the transform itself.
type objectReader struct {
	r   io.Reader
	buf []byte
	// buf[start:end] is unread; pos is how far the object that starts at
	// start has been scanned, depth and inString the state there.
	start, end, pos int
	depth           int
	inString        bool
	eof             bool
	err             error
	// guessed is where the object nextLine guessed starts; noLines is set
	// once a guess has missed.
	guessed int
	noLines bool
}

// maxLine bounds the line nextLine guesses an object is: past it (no
// newline in 8 MB, more than a Lambda payload) the object is found by
// counting braces.
const maxLine = 8 << 20

// objectChunk is the least room objectReader reads into; the buffer starts
// at four times that and doubles when one object does not fit.
const objectChunk = 1 << 20

func newObjectReader(r io.Reader) *objectReader {
	return &objectReader{r: r}
}

// errNotObject is returned when the next value does not start with '{'.
var errNotObject = errors.New("not a JSON object")

// next returns the next object, valid until the following call; io.EOF
// when only whitespace is left; errNotObject when the next value is not an
// object; io.ErrUnexpectedEOF when the input ends inside one.
func (o *objectReader) next() ([]byte, error) {
	if err := o.skipSpace(); err != nil {
		return nil, err
	}
	o.pos, o.depth, o.inString = o.start, 0, false
	for {
		if end, ok := o.scan(); ok {
			obj := o.buf[o.start:end]
			o.start = end
			return obj, nil
		}
		before := o.end - o.start
		if err := o.fill(); err != nil {
			return nil, err
		}
		if o.end-o.start == before {
			return nil, io.ErrUnexpectedEOF
		}
	}
}

// nextLine is next for a caller whose reader checks the object's syntax
// anyway (the transform's handler): it guesses that the object is the rest
// of its line, as generate writes them, and returns that line unscanned
// with guess=true (IndexByte finds the newline several times faster than
// counting braces finds the end). The caller confirms the guess by reading
// the line as one object with nothing after it but white space, which
// holds exactly when counting braces would have cut it there (a line the
// reader accepts ends where its strings and braces say); otherwise it
// calls again. After one miss nextLine is next (guess=false).
func (o *objectReader) nextLine() (obj []byte, guess bool, err error) {
	if o.noLines {
		obj, err = o.next()
		return obj, false, err
	}
	if err := o.skipSpace(); err != nil {
		return nil, false, err
	}
	o.pos = o.start
	for {
		if i := bytes.IndexByte(o.buf[o.pos:o.end], '\n'); i >= 0 {
			return o.guess(o.pos + i + 1), true, nil
		}
		if o.end-o.start > maxLine {
			o.noLines = true
			obj, err = o.next()
			return obj, false, err
		}
		o.pos = o.end
		before := o.end - o.start
		if err := o.fill(); err != nil {
			return nil, false, err
		}
		if o.end-o.start == before {
			return o.guess(o.end), true, nil // the last line, without a newline
		}
	}
}

// guess returns buf[start:end] as the guessed object and moves past it.
func (o *objectReader) guess(end int) []byte {
	o.guessed = o.start
	line := o.buf[o.start:end]
	o.start = end
	return line
}

// again takes back the guess nextLine returned last and returns the object
// that starts there, found by counting braces; nextLine guesses no more.
func (o *objectReader) again() ([]byte, error) {
	o.start, o.noLines = o.guessed, true
	return o.next()
}

// skipSpace skips the whitespace before the next object and checks that
// one starts there.
func (o *objectReader) skipSpace() error {
	for {
		for o.start < o.end && isSpace(o.buf[o.start]) {
			o.start++
		}
		if o.start < o.end {
			break
		}
		if err := o.fill(); err != nil {
			return err
		}
		if o.start == o.end {
			return io.EOF
		}
	}
	if o.buf[o.start] != '{' {
		return errNotObject
	}
	return nil
}

// scan goes on from pos and returns the end of the object when it closes
// within the buffer.
func (o *objectReader) scan() (int, bool) {
	b, i := o.buf[:o.end], o.pos
	for i < len(b) {
		if o.inString {
			q := bytes.IndexByte(b[i:], '"')
			if q < 0 {
				i = len(b)
				break
			}
			i += q
			// The quote ends the string unless an odd run of backslashes
			// comes before it (the run may straddle reads: it is counted
			// in the buffer, which holds the whole object).
			bs := 0
			for j := i - 1; j >= o.start && b[j] == '\\'; j-- {
				bs++
			}
			i++
			if bs%2 == 0 {
				o.inString = false
			}
			continue
		}
		switch b[i] {
		case '"':
			o.inString = true
		case '{', '[':
			o.depth++
		case '}', ']':
			o.depth--
			if o.depth == 0 {
				o.pos = i + 1
				return i + 1, true
			}
		}
		i++
	}
	o.pos = i
	return 0, false
}

// fill reads more input, moving the unread bytes to the front or growing
// the buffer first when it is full.
func (o *objectReader) fill() error {
	if o.eof {
		return o.err
	}
	if o.start > 0 && cap(o.buf)-o.end < objectChunk {
		n := copy(o.buf[:cap(o.buf)], o.buf[o.start:o.end])
		o.pos -= o.start
		o.start, o.end = 0, n
	}
	if cap(o.buf)-o.end < objectChunk {
		grown := make([]byte, o.end, 2*cap(o.buf)+4*objectChunk)
		copy(grown, o.buf[:o.end])
		o.buf = grown
	}
	// One read: a pipe gives what has been written so far, so an object
	// is handled as soon as it has arrived.
	for {
		n, err := o.r.Read(o.buf[o.end:cap(o.buf)])
		o.end += n
		o.buf = o.buf[:o.end]
		if err == io.EOF {
			o.eof = true
			return nil
		}
		if err != nil {
			o.eof, o.err = true, fmt.Errorf("reading: %w", err)
			return o.err
		}
		if n > 0 {
			return nil
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }
