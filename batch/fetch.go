package batch

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/semaphore"
)

// readAheadBytes bounds what the reader holds ahead of the decoding: the
// bytes read (decompressed) and not yet handed to the workers, whatever
// the hour they belong to. An object read whole counts as all of it, so
// the reader holds at most one such object ahead, whatever its size.
const readAheadBytes = 8 * ndjsonChunk

// readAhead reads the sources of a run's hours one after another, in order,
// on one goroutine, so that an hour's input is opened and decompressed while
// the hour before it is still being decoded and aggregated: hour i's
// messages go to ch[i], which the reader closes after them. An object read
// whole (Parquet, or a source without Open) is read only once its hour has
// begun: read ahead into the hour before, its buffer raised the 5M Parquet
// run's peak RSS from ~600–650 to ~830–1 080 MB at GOGC=400 for no gain in
// wall time (docs/benchmarks.md, "Batch read-ahead"). It is stopped by stop, which its
// owner calls once it consumes no more (after an error or the last hour): the
// reader then closes the body it has open and every channel it has not
// closed yet, and stop returns once it has.
type readAhead struct {
	ch     []chan fetched
	begun  []chan struct{} // closed by begin(h)
	budget *semaphore.Weighted
	cancel context.CancelFunc
	done   chan struct{}
}

// startReadAhead starts reading hours, hours[i] being hour i's sources.
func startReadAhead(ctx context.Context, hours [][]Source) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	r := &readAhead{budget: semaphore.NewWeighted(readAheadBytes), cancel: cancel, done: make(chan struct{})}
	for range hours {
		// Room for every message the budget lets through, and for the
		// data-less ones (an object's end) beside them.
		r.ch = append(r.ch, make(chan fetched, 2*readAheadBytes/ndjsonChunk))
		r.begun = append(r.begun, make(chan struct{}))
	}
	go func() {
		defer close(r.done)
		next := 0 // the first channel not closed yet
		defer func() {
			for _, c := range r.ch[next:] {
				close(c)
			}
		}()
		for h, srcs := range hours {
			to := sink{send: r.sender(ctx, h), whole: func() bool {
				select {
				case <-r.begun[h]:
					return true
				case <-ctx.Done():
					return false
				}
			}}
			for i, s := range srcs {
				if !fetchSource(ctx, i, s, to) {
					return
				}
			}
			close(r.ch[h])
			next = h + 1
		}
	}()
	return r
}

// sender sends to hour h's channel once the budget has room for the
// message's data; false when ctx is done.
func (r *readAhead) sender(ctx context.Context, h int) func(fetched) bool {
	return func(f fetched) bool {
		f.held = min(int64(len(f.data)), readAheadBytes)
		if !f.piece && f.data != nil {
			f.held = readAheadBytes // an object read whole
		}
		if err := r.budget.Acquire(ctx, f.held); err != nil {
			return false
		}
		select {
		case r.ch[h] <- f:
			return true
		case <-ctx.Done():
			r.budget.Release(f.held)
			return false
		}
	}
}

// begin says hour h is being decoded, and returns its messages; each
// received message's held bytes go back to the budget through release once
// it is handed on. Call it once per hour.
func (r *readAhead) begin(h int) <-chan fetched {
	close(r.begun[h])
	return r.ch[h]
}

func (r *readAhead) release(f fetched) { r.budget.Release(f.held) }

// stop stops the reader and waits until it has closed what it opened.
func (r *readAhead) stop() {
	r.cancel()
	<-r.done
}

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
	held       int64 // of the read-ahead budget, until received
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

// sink is where fetchSource sends source i's messages: send hands one on,
// whole returns once the source may be read whole; either returns false
// when ctx is done.
type sink struct {
	send  func(fetched) bool
	whole func() bool
}

// fetchSource sends source i to to; false stops the reader.
func fetchSource(ctx context.Context, i int, s Source, to sink) bool {
	send := func(f fetched) bool {
		return to.send(f) && f.err == nil
	}
	if s.Open == nil {
		if !to.whole() {
			return false
		}
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
		if !to.whole() {
			return false
		}
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
