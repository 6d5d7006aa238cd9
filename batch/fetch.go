package batch

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// fetched is one message from the fetcher: a whole object (data), a piece
// of a streamed NDJSON object (piece), the end of a streamed object (done,
// size), an object found unreadable, or an error that stops the run.
type fetched struct {
	i          int
	data       []byte
	piece      bool
	done       bool
	size       int64
	unreadable error
	err        error
}

// countingReader counts the bytes read and remembers the first error of
// the underlying reader, to tell a broken store from a corrupt object.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// fetchSource sends source i to ch; false stops the fetcher.
func fetchSource(ctx context.Context, i int, s Source, ch chan<- fetched) bool {
	send := func(f fetched) bool {
		select {
		case ch <- f:
			return f.err == nil
		case <-ctx.Done():
			return false
		}
	}
	if s.Open == nil {
		data, err := s.Fetch(ctx)
		if err != nil {
			return send(fetched{i: i, err: fmt.Errorf("reading raw object %s: %w", s.Name, err)})
		}
		return send(fetched{i: i, data: data})
	}
	rc, err := s.Open(ctx)
	if err != nil {
		return send(fetched{i: i, err: fmt.Errorf("opening raw object %s: %w", s.Name, err)})
	}
	defer rc.Close()
	cr := &countingReader{r: rc}
	br := bufio.NewReaderSize(cr, 1<<20)
	head, _ := br.Peek(4)
	storeErr := func() bool {
		if cr.err != nil {
			return send(fetched{i: i, err: fmt.Errorf("reading raw object %s: %w", s.Name, cr.err)})
		}
		return true
	}
	if bytes.HasPrefix(head, []byte("PAR1")) {
		// Parquet is read whole (its footer is at the end), into one
		// buffer of the known size.
		var buf bytes.Buffer
		if s.Size > 0 {
			buf.Grow(int(s.Size) + bytes.MinRead)
		}
		if _, err := buf.ReadFrom(br); err != nil {
			return send(fetched{i: i, err: fmt.Errorf("reading raw object %s: %w", s.Name, err)})
		}
		return send(fetched{i: i, data: buf.Bytes()})
	}
	var r io.Reader = br
	if len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			if !storeErr() {
				return false
			}
			return send(fetched{i: i, unreadable: fmt.Errorf("decompressing: %w", err)})
		}
		r = zr
	}
	// Pieces of about ndjsonChunk bytes, cut after the last full line.
	var carry []byte
	for {
		buf := make([]byte, len(carry), len(carry)+ndjsonChunk)
		copy(buf, carry)
		n, err := fill(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		end := err == io.EOF
		if err != nil && !end {
			if !storeErr() {
				return false
			}
			// A corrupt stream: what came before counts, the rest is lost.
			if len(buf) > 0 && !send(fetched{i: i, data: buf, piece: true}) {
				return false
			}
			return send(fetched{i: i, unreadable: fmt.Errorf("decompressing: %w", err)})
		}
		if end {
			if !storeErr() {
				return false
			}
			if len(buf) > 0 && !send(fetched{i: i, data: buf, piece: true}) {
				return false
			}
			return send(fetched{i: i, done: true, size: cr.n})
		}
		cut := bytes.LastIndexByte(buf, '\n') + 1
		if cut == 0 {
			carry = buf // one line longer than a piece: keep reading
			continue
		}
		carry = buf[cut:]
		if !send(fetched{i: i, data: buf[:cut], piece: true}) {
			return false
		}
	}
}

// fill reads into p until it is full or the reader fails; only io.EOF
// means the end (a gzip stream cut short fails with io.ErrUnexpectedEOF).
func fill(r io.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
