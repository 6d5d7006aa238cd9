package batch

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
)

// ndjsonChunk is the size NDJSON input is cut into for parallel parsing.
const ndjsonChunk = 4 << 20

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	// Firehose output may hold several gzip members; the reader reads
	// them all (multistream is the default).
	out := bytes.NewBuffer(make([]byte, 0, len(data)*6))
	if _, err := io.Copy(out, zr); err != nil {
		return nil, err
	}
	if err := zr.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// ndjsonUnits cuts data at line ends into pieces of about ndjsonChunk bytes.
func ndjsonUnits(data []byte, s Source) []unit {
	var units []unit
	for len(data) > 0 {
		n := min(len(data), ndjsonChunk)
		if n < len(data) {
			if nl := bytes.IndexByte(data[n:], '\n'); nl >= 0 {
				n += nl + 1
			} else {
				n = len(data)
			}
		}
		piece := data[:n]
		data = data[n:]
		units = append(units, func(ctx context.Context, st *runState, b *block) error {
			return parseNDJSON(ctx, st, piece, s, b)
		})
	}
	return units
}

// NextLine splits the first line off NDJSON data: the line without its
// newline and a trailing carriage return, the rest after it, and whether
// the line is blank (only white space), which every NDJSON reader skips.
func NextLine(data []byte) (line, rest []byte, blank bool) {
	line = data
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		line, rest = data[:i], data[i+1:]
	}
	line = bytes.TrimRight(line, "\r")
	return line, rest, len(bytes.TrimSpace(line)) == 0
}

func parseNDJSON(ctx context.Context, st *runState, data []byte, s Source, b *block) error {
	types := &localInterner{shared: st.types, cache: map[string]uint32{}}
	sources := &localInterner{shared: st.sources, cache: map[string]uint32{}}
	var want int32
	check := !s.Hour.IsZero()
	if check {
		want = hourWindow(s.Hour.UnixMilli())
	}
	b.grow(len(data) / 200)
	b.idEnd = make([]uint32, 0, len(data)/200)
	b.idArena = make([]byte, 0, len(data)/8)
	n := 0
	for len(data) > 0 {
		var line []byte
		var blank bool
		if line, data, blank = NextLine(data); blank {
			continue
		}
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b.rows++
		if c, ok := parseCanonical(line); ok {
			win := hourWindow(c.millis)
			if check && win != want {
				b.reject(ReasonWrongHour)
				continue
			}
			b.add(agg.Fingerprint(bytesString(c.id)), agg.UserHash(bytesString(c.user)), c.value, win,
				types.idBytes(c.typ), sources.idBytes(c.src))
			// Copied: the exact dedup reads it later, the input is not kept.
			b.idArena = append(b.idArena, c.id...)
			b.idEnd = append(b.idEnd, uint32(len(b.idArena)))
			continue
		}
		ev, err := event.ParseEnrichedLean(line)
		if err != nil {
			var rej *event.Rejection
			if errors.As(err, &rej) {
				b.reject(string(rej.Reason))
			} else {
				b.reject(string(event.ReasonInvalidJSON))
			}
			continue
		}
		win := hourWindow(ev.EventTime.UnixMilli())
		if check && win != want {
			b.reject(ReasonWrongHour)
			continue
		}
		b.add(agg.Fingerprint(ev.EventID), agg.UserHash(ev.UserID), ev.Value, win,
			types.idBytes([]byte(ev.EventType)), sources.idBytes([]byte(ev.Source)))
		b.idArena = append(b.idArena, ev.EventID...)
		b.idEnd = append(b.idEnd, uint32(len(b.idArena)))
	}
	return nil
}
