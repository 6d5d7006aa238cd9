package batch

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress reports a long run on a terminal: objects read, rows, MB/s and
// an ETA, at most once per Every. A nil *Progress reports nothing.
type Progress struct {
	W     io.Writer
	Every time.Duration
	Now   func() time.Time

	mu           sync.Mutex
	start, last  time.Time
	objects      int64
	totalObjects int64
	bytes        int64
	totalBytes   int64
	nrows        int64
}

// NewProgress reports to w once a second.
func NewProgress(w io.Writer, now func() time.Time) *Progress {
	return &Progress{W: w, Every: time.Second, Now: now}
}

func (p *Progress) begin(objects, bytes int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start, p.last = p.Now(), p.Now()
	p.totalObjects, p.totalBytes = objects, bytes
}

func (p *Progress) object(bytes int64) {
	p.mu.Lock()
	p.objects++
	p.bytes += bytes
	p.mu.Unlock()
	p.maybePrint()
}

func (p *Progress) rows(n int64) {
	p.mu.Lock()
	p.nrows += n
	p.mu.Unlock()
	p.maybePrint()
}

func (p *Progress) note(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.W, format+"\n", a...)
}

func (p *Progress) maybePrint() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.Now()
	if now.Sub(p.last) < p.Every {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	mbs := 0.0
	if el > 0 {
		mbs = float64(p.bytes) / 1e6 / el
	}
	eta := "?"
	if p.bytes > 0 && p.totalBytes > 0 {
		rest := time.Duration(el * float64(p.totalBytes-p.bytes) / float64(p.bytes) * float64(time.Second))
		eta = rest.Round(time.Second).String()
	}
	fmt.Fprintf(p.W, "batch: objects %d/%d, rows %d, %.1f MB/s, ETA %s\n", p.objects, p.totalObjects, p.nrows, mbs, eta)
}
