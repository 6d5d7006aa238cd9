package gen

import (
	"bufio"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"time"
)

// Format is how Write lays out records.
type Format string

const (
	NDJSON   Format = "ndjson"   // one record per line
	Firehose Format = "firehose" // one events.KinesisFirehoseEvent per line
	Kinesis  Format = "kinesis"  // one events.KinesisEvent per line
)

// Formats lists the formats Write knows.
func Formats() []Format { return []Format{NDJSON, Firehose, Kinesis} }

// Envelope shapes the Lambda events of the firehose and kinesis formats.
type Envelope struct {
	// Batch is the most records in one event (default 500).
	Batch int
	// Shards spreads records over this many shards by the MD5 of their
	// partition key (user_id), as Kinesis does (default 1). Each event holds
	// records of one shard, in sequence order.
	Shards int
	// Region, Account and Stream name the ARNs (defaults us-east-1,
	// 123456789012, lambdastack-events).
	Region, Account, Stream string
}

func (e *Envelope) defaults() {
	if e.Batch <= 0 {
		e.Batch = 500
	}
	if e.Shards <= 0 {
		e.Shards = 1
	}
	if e.Region == "" {
		e.Region = "us-east-1"
	}
	if e.Account == "" {
		e.Account = "123456789012"
	}
	if e.Stream == "" {
		e.Stream = "lambdastack-events"
	}
}

// Write generates the whole run described by cfg into w in format f and
// returns what it wrote. env is used by the firehose and kinesis formats.
func Write(w io.Writer, cfg Config, f Format, env Envelope) (Summary, error) {
	g, err := New(cfg)
	if err != nil {
		return Summary{}, err
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	sum, err := write(bw, g, cfg, f, env)
	if err == nil {
		if err = bw.Flush(); err != nil {
			err = fmt.Errorf("writing events: %w", err)
		}
	}
	sum.Bytes = cw.n
	return sum, err
}

// countingWriter counts the bytes that reach w.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func write(bw *bufio.Writer, g *Generator, cfg Config, f Format, env Envelope) (Summary, error) {
	switch f {
	case NDJSON, "":
		for !g.Done() {
			rec := g.Next()
			bw.Write(rec.Data)
			if err := bw.WriteByte('\n'); err != nil {
				return g.Summary(), fmt.Errorf("writing events: %w", err)
			}
		}
	case Firehose, Kinesis:
		env.defaults()
		ew := newEnvelopeWriter(bw, f, env, cfg.Seed)
		for !g.Done() {
			if err := ew.add(g.Next()); err != nil {
				return g.Summary(), fmt.Errorf("writing %s events: %w", f, err)
			}
		}
		if err := ew.flushAll(); err != nil {
			return g.Summary(), fmt.Errorf("writing %s events: %w", f, err)
		}
	default:
		return Summary{}, fmt.Errorf("unknown format %q (want ndjson, firehose or kinesis)", f)
	}
	return g.Summary(), nil
}

// pending is one record waiting in its shard's batch.
type pending struct {
	data    []byte
	key     string
	seq     string
	arrival time.Time
}

type envelopeWriter struct {
	w        *bufio.Writer
	f        Format
	env      Envelope
	seed     uint64
	shards   []shardState
	bounds   []*big.Int // upper hash key (exclusive) of each shard
	invocN   uint64
	out      []byte
	shardIDs []string
}

type shardState struct {
	next  uint64 // sequence counter
	batch []pending
	free  [][]byte
}

func newEnvelopeWriter(w *bufio.Writer, f Format, env Envelope, seed uint64) *envelopeWriter {
	ew := &envelopeWriter{w: w, f: f, env: env, seed: seed, shards: make([]shardState, env.Shards)}
	// Kinesis splits the 128-bit hash key range evenly over the shards.
	space := new(big.Int).Lsh(big.NewInt(1), 128)
	for i := range env.Shards {
		b := new(big.Int).Mul(space, big.NewInt(int64(i+1)))
		ew.bounds = append(ew.bounds, b.Div(b, big.NewInt(int64(env.Shards))))
		ew.shardIDs = append(ew.shardIDs, fmt.Sprintf("shardId-%012d", i))
		ew.shards[i].next = 1 + mix(seed+uint64(i))%1000
	}
	return ew
}

func (ew *envelopeWriter) shardOf(key string) int {
	if len(ew.shards) == 1 {
		return 0
	}
	sum := md5.Sum([]byte(key))
	h := new(big.Int).SetBytes(sum[:])
	for i, b := range ew.bounds {
		if h.Cmp(b) < 0 {
			return i
		}
	}
	return len(ew.bounds) - 1
}

// sequence returns the shard's next sequence number: 56 digits like real
// ones, increasing within a shard.
func (ew *envelopeWriter) sequence(shard int) string {
	s := &ew.shards[shard]
	s.next += 1 + mix(s.next^ew.seed)%7
	b := make([]byte, 0, 56)
	b = append(b, "4959"...)
	b = appendPadded(b, mix(ew.seed)%1e18, 18)
	b = appendPadded(b, uint64(shard)%100, 2)
	b = appendPadded(b, s.next/1e16, 16)
	return string(appendPadded(b, s.next%1e16, 16))
}

func (ew *envelopeWriter) add(rec Record) error {
	i := ew.shardOf(rec.UserID)
	s := &ew.shards[i]
	var data []byte
	if n := len(s.free); n > 0 {
		data, s.free = s.free[n-1][:0], s.free[:n-1]
	}
	s.batch = append(s.batch, pending{data: append(data, rec.Data...), key: rec.UserID, seq: ew.sequence(i), arrival: rec.Arrival})
	if len(s.batch) >= ew.env.Batch {
		return ew.flush(i)
	}
	return nil
}

func (ew *envelopeWriter) flushAll() error {
	for i := range ew.shards {
		if err := ew.flush(i); err != nil {
			return err
		}
	}
	return nil
}

func (ew *envelopeWriter) flush(shard int) error {
	s := &ew.shards[shard]
	if len(s.batch) == 0 {
		return nil
	}
	ew.invocN++
	streamARN := "arn:aws:kinesis:" + ew.env.Region + ":" + ew.env.Account + ":stream/" + ew.env.Stream
	out := ew.out[:0]
	if ew.f == Firehose {
		out = append(out, `{"invocationId":"`...)
		out = appendUUIDFrom(out, mix(ew.seed^ew.invocN), mix(ew.seed+ew.invocN))
		out = append(out, `","deliveryStreamArn":"arn:aws:firehose:`+ew.env.Region+":"+ew.env.Account+":deliverystream/"+ew.env.Stream+
			`","sourceKinesisStreamArn":"`+streamARN+`","region":"`+ew.env.Region+`","records":[`...)
		for j, p := range s.batch {
			if j > 0 {
				out = append(out, ',')
			}
			ms := strconv.FormatInt(p.arrival.UnixMilli(), 10)
			out = append(out, `{"recordId":"`...)
			out = append(out, p.seq...)
			out = append(out, `","approximateArrivalTimestamp":`+ms+`,"data":"`...)
			out = base64.StdEncoding.AppendEncode(out, p.data)
			out = append(out, `","kinesisRecordMetadata":{"shardId":"`+ew.shardIDs[shard]+`","partitionKey":"`...)
			out = append(out, p.key...)
			out = append(out, `","sequenceNumber":"`...)
			out = append(out, p.seq...)
			out = append(out, `","subsequenceNumber":0,"approximateArrivalTimestamp":`+ms+`}}`...)
		}
		out = append(out, "]}\n"...)
	} else {
		out = append(out, `{"Records":[`...)
		for j, p := range s.batch {
			if j > 0 {
				out = append(out, ',')
			}
			ms := p.arrival.UnixMilli()
			out = append(out, `{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"`...)
			out = append(out, p.key...)
			out = append(out, `","sequenceNumber":"`...)
			out = append(out, p.seq...)
			out = append(out, `","data":"`...)
			out = base64.StdEncoding.AppendEncode(out, p.data)
			out = append(out, `","approximateArrivalTimestamp":`...)
			out = strconv.AppendInt(out, ms/1000, 10)
			out = append(out, '.')
			out = appendPadded(out, uint64(ms%1000), 3)
			out = append(out, `},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"`+ew.shardIDs[shard]+":"...)
			out = append(out, p.seq...)
			out = append(out, `","eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::`+ew.env.Account+
				`:role/lambdastack-speed","awsRegion":"`+ew.env.Region+`","eventSourceARN":"`+streamARN+`"}`...)
		}
		out = append(out, "]}\n"...)
	}
	ew.out = out
	for _, p := range s.batch {
		s.free = append(s.free, p.data)
	}
	s.batch = s.batch[:0]
	_, err := ew.w.Write(out)
	return err
}

func appendUUIDFrom(dst []byte, a, b uint64) []byte {
	a = a&^0xf000 | 0x4000
	b = b&^(0xc<<60) | 0x8<<60
	dst = appendHex(dst, a>>32, 8)
	dst = append(dst, '-')
	dst = appendHex(dst, a>>16&0xffff, 4)
	dst = append(dst, '-')
	dst = appendHex(dst, a&0xffff, 4)
	dst = append(dst, '-')
	dst = appendHex(dst, b>>48, 4)
	dst = append(dst, '-')
	return appendHex(dst, b&0xffffffffffff, 12)
}
