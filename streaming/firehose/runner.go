package firehose

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

// Defaults follow Firehose's S3 buffering defaults.
const (
	DefaultBufferBytes    = 5 << 20
	DefaultBufferInterval = 300 * time.Second
)

// Transformer is the transform the runner calls: transform.Handler.Handle.
type Transformer interface {
	Handle(ctx context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error)
}

// Runner plays Firehose for one stream.
type Runner struct {
	Source    streaming.Source
	Store     storage.Store
	Transform Transformer
	// Stream names the stream in object names and in the checkpoint key.
	Stream string
	// BufferBytes (default 5 MiB) and BufferInterval (default 300s)
	// close a shard's buffer, as Firehose's buffering hints do.
	BufferBytes    int
	BufferInterval time.Duration
	// ReadLimit is the most records one shard read returns.
	ReadLimit int
	// Poll is how long Run waits when the stream had nothing new.
	Poll time.Duration
	// Now is the clock for buffer intervals; nil means time.Now.
	Now func() time.Time
	// MSK plays a delivery stream with an Amazon MSK source: the
	// transform gets the event JSON Firehose sends for one
	// (kafkaRecordValue and mskRecordMetadata, no KPL de-aggregation)
	// through Invoke, which Transform must then have, and answers in
	// kafkaRecordValue.
	MSK bool

	bufs  map[string]*shardBuffer
	read  streaming.Checkpoint // where the reader stands
	saved streaming.Checkpoint // what is written to the store

	mu    sync.Mutex // guards stats, which Stats reads from other goroutines
	stats Stats
}

// Stats counts what the runner did.
type Stats struct {
	StreamRecords int64            // Kinesis records read
	Records       int64            // user records (after de-aggregation) sent to the transform
	Lines         map[string]int64 // NDJSON lines written per route ("events", "errors/<reason>", "processing-failed")
	Objects       int64            // objects written
}

type shardBuffer struct {
	first, last string
	bytes       int
	opened      time.Time
	groups      map[string]*bytes.Buffer // object prefix -> NDJSON
	lines       map[string]int64         // route -> lines
}

// CheckpointKey is where the runner keeps its shard positions.
func (r *Runner) CheckpointKey() string {
	return "_checkpoints/firehose/" + r.Stream + ".json"
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Stats returns the counters so far.
func (r *Runner) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Lines = maps.Clone(r.stats.Lines)
	return s
}

func (r *Runner) init(ctx context.Context) error {
	if r.bufs != nil {
		return nil
	}
	if r.Stream == "" {
		return errors.New("firehose runner: no stream name")
	}
	if r.BufferBytes <= 0 {
		r.BufferBytes = DefaultBufferBytes
	}
	if r.BufferInterval <= 0 {
		r.BufferInterval = DefaultBufferInterval
	}
	r.bufs = map[string]*shardBuffer{}
	r.mu.Lock()
	r.stats.Lines = map[string]int64{}
	r.mu.Unlock()
	data, err := storage.ReadAll(ctx, r.Store, r.CheckpointKey())
	switch {
	case errors.Is(err, storage.ErrNotExist):
		r.saved = streaming.Checkpoint{Shards: map[string]streaming.ShardPosition{}}
	case err != nil:
		return fmt.Errorf("reading the runner checkpoint: %w", err)
	default:
		if err := json.Unmarshal(data, &r.saved); err != nil {
			return fmt.Errorf("decoding the runner checkpoint %s: %w", storage.Join(r.Store.Location(), r.CheckpointKey()), err)
		}
		if r.saved.Shards == nil {
			r.saved.Shards = map[string]streaming.ShardPosition{}
		}
	}
	r.read = streaming.Checkpoint{Shards: maps.Clone(r.saved.Shards)}
	return nil
}

// CatchUp reads every shard until it has nothing new, writes every buffer
// and saves the checkpoint.
func (r *Runner) CatchUp(ctx context.Context) error {
	if err := r.init(ctx); err != nil {
		return err
	}
	rd := &streaming.Reader{Source: r.Source, Limit: r.ReadLimit}
	if err := rd.CatchUp(ctx, &r.read, r.handle); err != nil {
		return err
	}
	return r.flushAll(ctx)
}

// Run reads until ctx is done, writing buffers when they are full or
// BufferInterval old. On return every buffer read so far is written.
func (r *Runner) Run(ctx context.Context) error {
	if err := r.init(ctx); err != nil {
		return err
	}
	rd := &streaming.Reader{Source: r.Source, Limit: r.ReadLimit}
	poll := r.Poll
	if poll <= 0 {
		poll = time.Second
	}
	for {
		err := rd.CatchUp(ctx, &r.read, r.handle)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if ctx.Err() != nil {
			// Write what was read, with a context that is still alive.
			if err := r.flushAll(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			return ctx.Err()
		}
		if r.oldest() >= r.BufferInterval {
			// A flush is bounded work: let it finish if ctx ends meanwhile.
			if err := r.flushAll(context.WithoutCancel(ctx)); err != nil {
				return err
			}
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}

func (r *Runner) oldest() time.Duration {
	var d time.Duration
	for _, b := range r.bufs {
		if b.bytes > 0 {
			d = max(d, r.now().Sub(b.opened))
		}
	}
	return d
}

// Invoker is the Lambda entry of the transform (transform.Handler.Invoke):
// event JSON in, response JSON out.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// invokeMSK sends ev to the transform as the event of an MSK source and
// reads the response back into the Firehose response types.
func (r *Runner) invokeMSK(ctx context.Context, b streaming.Batch, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	inv, ok := r.Transform.(Invoker)
	if !ok {
		return events.KinesisFirehoseResponse{}, fmt.Errorf("firehose runner: the transform %T has no Invoke for MSK-source events", r.Transform)
	}
	msk := transform.MSKEvent{InvocationID: ev.InvocationID, DeliveryStreamArn: ev.DeliveryStreamArn, Region: ev.Region,
		SourceMSKArn: "local:" + r.Stream, Records: make([]transform.MSKRecord, len(ev.Records))}
	for i, rec := range ev.Records {
		ms := rec.ApproximateArrivalTimestamp.UnixMilli()
		msk.Records[i] = transform.MSKRecord{RecordID: rec.RecordID, ApproximateArrivalTimestamp: ms, KafkaRecordValue: rec.Data,
			MSKRecordMetadata: transform.MSKRecordMetadata{Offset: b.Records[i].SequenceNumber, PartitionID: b.ShardID, ApproximateArrivalTimestamp: ms}}
	}
	payload, err := json.Marshal(msk)
	if err != nil {
		return events.KinesisFirehoseResponse{}, fmt.Errorf("encoding the MSK-source event: %w", err)
	}
	out, err := inv.Invoke(ctx, payload)
	if err != nil {
		return events.KinesisFirehoseResponse{}, err
	}
	var resp transform.MSKResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return events.KinesisFirehoseResponse{}, fmt.Errorf("reading the transform's response to an MSK-source event: %w", err)
	}
	fr := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(resp.Records))}
	for i, rr := range resp.Records {
		fr.Records[i] = events.KinesisFirehoseResponseRecord{RecordID: rr.RecordID, Result: rr.Result, Data: rr.KafkaRecordValue, Metadata: rr.Metadata}
	}
	return fr, nil
}

// handle transforms one batch of a shard.
func (r *Runner) handle(ctx context.Context, b streaming.Batch) error {
	ev := events.KinesisFirehoseEvent{InvocationID: "local", DeliveryStreamArn: "local:" + r.Stream, Region: "local"}
	counts := make([]int, len(b.Records)) // user records per stream record
	for i, rec := range b.Records {
		users, aggregated, err := streaming.Deaggregate(rec.Data)
		if r.MSK || !aggregated || err != nil {
			// Not aggregated, or broken: hand it over as it is.
			users = []streaming.Record{{PartitionKey: rec.PartitionKey, Data: rec.Data}}
		}
		counts[i] = len(users)
		for sub, u := range users {
			ev.Records = append(ev.Records, events.KinesisFirehoseEventRecord{
				RecordID:                    fmt.Sprintf("%s:%s:%d", b.ShardID, rec.SequenceNumber, sub),
				ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: rec.ArrivalTime},
				Data:                        u.Data,
				KinesisFirehoseRecordMetadata: events.KinesisFirehoseRecordMetadata{ShardID: b.ShardID, PartitionKey: u.PartitionKey,
					SequenceNumber: rec.SequenceNumber, SubsequenceNumber: int64(sub), ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: rec.ArrivalTime}},
			})
		}
	}
	var (
		resp events.KinesisFirehoseResponse
		err  error
	)
	if r.MSK {
		resp, err = r.invokeMSK(ctx, b, ev)
	} else {
		resp, err = r.Transform.Handle(ctx, ev)
	}
	if err != nil {
		return fmt.Errorf("transforming %d records of %s: %w", len(ev.Records), b.ShardID, err)
	}
	if len(resp.Records) != len(ev.Records) {
		return fmt.Errorf("transforming %d records of %s: %d results", len(ev.Records), b.ShardID, len(resp.Records))
	}
	byID := make(map[string]*events.KinesisFirehoseResponseRecord, len(resp.Records))
	for i := range resp.Records {
		byID[resp.Records[i].RecordID] = &resp.Records[i]
	}
	r.mu.Lock()
	r.stats.StreamRecords += int64(len(b.Records))
	r.stats.Records += int64(len(ev.Records))
	r.mu.Unlock()
	j := 0
	for i, rec := range b.Records {
		buf := r.buffer(b.ShardID)
		if buf.first == "" {
			buf.first = rec.SequenceNumber
		}
		buf.last = rec.SequenceNumber
		for range counts[i] {
			in := ev.Records[j]
			j++
			out, ok := byID[in.RecordID]
			if !ok {
				return fmt.Errorf("transforming %s: record %s missing from the response", b.ShardID, in.RecordID)
			}
			delete(byID, in.RecordID) // each recordId once
			if err := buf.add(in, out); err != nil {
				return fmt.Errorf("transforming %s: %w", b.ShardID, err)
			}
		}
		if buf.bytes >= r.BufferBytes {
			if err := r.flush(ctx, b.ShardID); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Runner) buffer(shard string) *shardBuffer {
	b := r.bufs[shard]
	if b == nil {
		b = &shardBuffer{groups: map[string]*bytes.Buffer{}, lines: map[string]int64{}}
		r.bufs[shard] = b
	}
	if b.bytes == 0 && b.first == "" {
		b.opened = r.now()
	}
	return b
}

func (b *shardBuffer) add(in events.KinesisFirehoseEventRecord, out *events.KinesisFirehoseResponseRecord) error {
	var prefix, route string
	var data []byte
	switch out.Result {
	case events.KinesisFirehoseTransformedStateOk:
		k := out.Metadata.PartitionKeys
		route = k["route"]
		if route == "" || k["dt"] == "" || k["hour"] == "" || strings.Contains(route, "..") {
			return fmt.Errorf("record %s: partition keys %v lack route, dt or hour", in.RecordID, k)
		}
		prefix = fmt.Sprintf("%s/dt=%s/hour=%s/", route, k["dt"], k["hour"])
		data = out.Data
	case events.KinesisFirehoseTransformedStateDropped:
		return nil
	default:
		// As Firehose does: keep the original record under
		// processing-failed/, by arrival time.
		route = "processing-failed"
		t := in.ApproximateArrivalTimestamp.UTC()
		prefix = fmt.Sprintf("processing-failed/dt=%s/hour=%s/", t.Format("2006-01-02"), t.Format("15"))
		line, _ := json.Marshal(map[string]any{"recordId": in.RecordID, "errorCode": "Lambda.ProcessingFailed",
			"approximateArrivalTimestamp": in.ApproximateArrivalTimestamp.UnixMilli(), "rawData": base64.StdEncoding.EncodeToString(in.Data)})
		data = append(line, '\n')
	}
	g := b.groups[prefix]
	if g == nil {
		g = &bytes.Buffer{}
		b.groups[prefix] = g
	}
	g.Write(data)
	b.bytes += len(data)
	b.lines[route] += int64(bytes.Count(data, []byte{'\n'}))
	return nil
}

// flush writes one shard's buffer and saves the checkpoint.
func (r *Runner) flush(ctx context.Context, shard string) error {
	b := r.bufs[shard]
	if b == nil || b.first == "" {
		return nil
	}
	prefixes := make([]string, 0, len(b.groups))
	for p := range b.groups {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	for _, p := range prefixes {
		key := fmt.Sprintf("%s%s-%s-%s-%s.gz", p, r.Stream, shard, b.first, b.last)
		obj, err := gzipBytes(b.groups[p].Bytes())
		if err != nil {
			return fmt.Errorf("compressing %s: %w", key, err)
		}
		if err := r.Store.Put(ctx, key, obj); err != nil {
			return fmt.Errorf("writing %s: %w", storage.Join(r.Store.Location(), key), err)
		}
		r.mu.Lock()
		r.stats.Objects++
		r.mu.Unlock()
	}
	r.mu.Lock()
	for route, n := range b.lines {
		r.stats.Lines[route] += n
	}
	r.mu.Unlock()
	pos := r.saved.Shards[shard]
	pos.Sequence = b.last
	r.saved.Shards[shard] = pos
	delete(r.bufs, shard)
	return r.saveCheckpoint(ctx)
}

// flushAll writes every buffer; then everything the reader read is
// written, so the saved checkpoint becomes the reader's (shards it
// finished included).
func (r *Runner) flushAll(ctx context.Context) error {
	shards := make([]string, 0, len(r.bufs))
	for s := range r.bufs {
		shards = append(shards, s)
	}
	sort.Strings(shards)
	for _, s := range shards {
		if err := r.flush(ctx, s); err != nil {
			return err
		}
	}
	r.saved = streaming.Checkpoint{Shards: maps.Clone(r.read.Shards)}
	return r.saveCheckpoint(ctx)
}

func (r *Runner) saveCheckpoint(ctx context.Context) error {
	data, err := json.MarshalIndent(r.saved, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the runner checkpoint: %w", err)
	}
	if err := r.Store.Put(ctx, r.CheckpointKey(), append(data, '\n')); err != nil {
		return fmt.Errorf("saving the runner checkpoint %s: %w", storage.Join(r.Store.Location(), r.CheckpointKey()), err)
	}
	return nil
}

// gzipBytes compresses data with a fixed header, so equal input gives
// equal objects.
func gzipBytes(data []byte) ([]byte, error) {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Count reads back every object the runner layout holds under the store
// and counts NDJSON lines per route: "events", "errors/<reason>" and
// "processing-failed". Reconciliation and the demo use it.
func Count(ctx context.Context, s storage.Store) (map[string]int64, error) {
	objs, err := s.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", s.Location(), err)
	}
	counts := map[string]int64{}
	for _, o := range objs {
		i := strings.Index(o.Key, "/dt=")
		if i < 0 || !strings.HasSuffix(o.Key, ".gz") {
			continue
		}
		route := o.Key[:i]
		data, err := storage.ReadAll(ctx, s, o.Key)
		if err != nil {
			return nil, err
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", o.Key, err)
		}
		var plain bytes.Buffer
		if _, err := plain.ReadFrom(zr); err != nil {
			return nil, fmt.Errorf("decompressing %s: %w", o.Key, err)
		}
		counts[route] += int64(bytes.Count(plain.Bytes(), []byte{'\n'}))
	}
	return counts, nil
}
