package speed

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/streaming"
)

// Reasons the speed layer skips a record for, besides the event model's.
const (
	// ReasonBadAggregate: the record carries the KPL magic bytes and a
	// matching checksum, but its protobuf cannot be read.
	ReasonBadAggregate = "bad_aggregate"
	// ReasonBadRecord: the Kinesis record has no usable shard id or
	// sequence number (never the case for records from Kinesis).
	ReasonBadRecord = "bad_record"
)

// Deaggregator splits the data of one Kinesis record into the user records
// a KPL producer packed into it. Data that is not a KPL aggregate comes back
// as aggregated=false and is used as it is. An error means the data claimed
// to be an aggregate but could not be read.
type Deaggregator func(data []byte) (records [][]byte, aggregated bool, err error)

// KPL is the Deaggregator for records of the Kinesis Producer Library's
// aggregated format (streaming.Deaggregate).
func KPL(data []byte) ([][]byte, bool, error) {
	recs, aggregated, err := streaming.Deaggregate(data)
	if !aggregated || err != nil {
		return nil, aggregated, err
	}
	out := make([][]byte, len(recs))
	for i := range recs {
		out[i] = recs[i].Data
	}
	return out, true, nil
}

// Handler is the speed-layer Lambda handler. Its fields are its
// dependencies; the zero values of the optional ones are usable.
type Handler struct {
	// Store receives the speed objects (the views location).
	Store storage.Store
	// Deaggregate splits KPL aggregated records; nil uses the KPL codec of
	// package streaming.
	Deaggregate Deaggregator
	// Now stamps metric lines and is the received time of a record that
	// has no arrival timestamp; nil means time.Now.
	Now func() time.Time
	// Metrics receives CloudWatch Embedded Metric Format lines, one set per
	// invocation (os.Stdout in Lambda); nil writes none.
	Metrics io.Writer
	// Stage is the deployment stage, the Stage dimension of every metric
	// (so two stages in one account do not mix); required with Metrics.
	Stage string
	// Log receives a line per object that could not be written; nil
	// writes none.
	Log io.Writer
}

// Object is one speed object of a batch.
type Object struct {
	Key      string
	Shard    string
	Hour     time.Time
	Rows     int
	Events   int64
	ValueSum float64
	Bytes    int
	Err      error // nil when written
}

// Result is what one invocation did.
type Result struct {
	Records     int            // Kinesis records in the event
	UserRecords int            // records after KPL de-aggregation
	Events      int            // valid events counted
	Duplicates  int            // valid events whose event_id the batch had already counted
	Invalid     map[string]int // skipped records by reason
	Objects     []Object       // written
	Failed      []Object       // not written: their records are retried
	// Failures names, per shard, the first record of the batch whose
	// window was not written (Kinesis events).
	Failures []events.KinesisBatchItemFailure
	// KafkaFailures is Failures for Kafka events: per partition, the
	// offset of the first record whose window was not written.
	KafkaFailures []KafkaBatchItemFailure
}

// InvalidTotal is the number of records skipped as invalid.
func (r *Result) InvalidTotal() int {
	n := 0
	for _, c := range r.Invalid {
		n += c
	}
	return n
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

// Handle is the Lambda entry: it processes the batch and returns the
// records to retry. It never fails the whole batch for a bad record; a write
// that fails is reported as a BatchItemFailure.
func (h *Handler) Handle(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	res := h.Process(ctx, ev)
	return events.KinesisEventResponse{BatchItemFailures: res.Failures}, nil
}

// shardBatch is the records of one shard (Kinesis) or partition (Kafka)
// in one event, in event order.
type shardBatch struct {
	shard   string // the object key's prefix: the shard id, or "<topic>-<partition>"
	kafka   bool   // Kafka records: no KPL de-aggregation, failures by offset
	records []item

	topic     string // Kafka only
	partition int64
}

// item is one stream record of a shard batch.
type item struct {
	pos      string    // the Kinesis sequence number (Process)
	seq      []byte    // the same, from Invoke's reader
	offset   int64     // the Kafka offset
	data     []byte    // nil for a Kafka tombstone
	received time.Time // the arrival time; zero for none
}

// posOf is the Kinesis sequence number of record i.
func (b *shardBatch) posOf(i int) string {
	if r := &b.records[i]; r.seq != nil {
		return string(r.seq)
	}
	return b.records[i].pos
}

// batchSet is the shard batches of one event, in the order their shards
// first appear. Its batches are reused after reset.
type batchSet struct {
	list []*shardBatch
	free []*shardBatch
	name []byte // a Kafka shard name being built
}

// get returns the batch of shard, adding it at the end when new.
func get[S string | []byte](set *batchSet, shard S, kafka bool) *shardBatch {
	for _, sb := range set.list {
		if sb.shard == string(shard) {
			return sb
		}
	}
	var b *shardBatch
	if n := len(set.free); n > 0 {
		b, set.free = set.free[n-1], set.free[:n-1]
		*b = shardBatch{records: b.records[:0]}
	} else {
		b = new(shardBatch)
	}
	b.shard, b.kafka = string(shard), kafka
	set.list = append(set.list, b)
	return b
}

// reset keeps the batches' room for the next event.
func (set *batchSet) reset() {
	for _, b := range set.list {
		clear(b.records)
		set.free = append(set.free, b)
	}
	set.list = set.list[:0]
}

// addKinesis adds one Kinesis record to its shard's batch, or counts it
// as a bad record when its shard id or sequence number is not usable.
func addKinesis[S string | []byte](set *batchSet, res *Result, eventID, seq S, data []byte, received time.Time) {
	shard, ok := shardOf(eventID, seq)
	if !ok {
		res.Invalid[ReasonBadRecord]++
		res.UserRecords++
		return
	}
	it := item{data: data, received: received}
	switch s := any(seq).(type) {
	case string:
		it.pos = s
	case []byte:
		it.seq = s
	}
	b := get(set, shard, false)
	b.records = append(b.records, it)
}

// addKafka adds one Kafka record to its partition's batch, or counts it
// as a bad record when its topic, partition or offset is not usable.
func addKafka[S string | []byte](set *batchSet, res *Result, topic S, partition, offset, timestamp int64, value []byte) {
	var b *shardBatch // the batch of the last record's partition
	if n := len(set.list); n > 0 && set.list[n-1].topic == string(topic) && set.list[n-1].partition == partition {
		b = set.list[n-1]
	}
	if b == nil && len(topic) > 0 && partition >= 0 {
		set.name = strconv.AppendInt(append(append(set.name[:0], topic...), '-'), partition, 10)
		if safeName(set.name) {
			b = get(set, set.name, true)
			if b.topic != string(topic) {
				b.topic = string(topic)
			}
			b.partition = partition
		}
	}
	if b == nil || offset < 0 {
		res.Invalid[ReasonBadRecord]++
		res.UserRecords++
		return
	}
	it := item{offset: offset, data: value}
	if timestamp > 0 {
		it.received = time.UnixMilli(timestamp)
	}
	b.records = append(b.records, it)
}

// Process does the work of Handle, emits the metrics and logs the objects
// not written, and returns what it did.
func (h *Handler) Process(ctx context.Context, ev events.KinesisEvent) Result {
	res := h.process(ctx, ev)
	h.report(&res)
	return res
}

// report emits the metrics of one invocation and logs the objects not
// written.
func (h *Handler) report(res *Result) {
	if h.Metrics != nil {
		if err := writeMetrics(h.Metrics, h.Stage, h.now(), res); err != nil && h.Log != nil {
			// Metrics are best effort: the objects are written.
			fmt.Fprintf(h.Log, "speed: %v\n", err)
		}
	}
	if h.Log != nil {
		// For people; the event source mapping acts on Failures.
		for _, o := range res.Failed {
			fmt.Fprintf(h.Log, "speed: %v\n", o.Err)
		}
	}
}

func (h *Handler) process(ctx context.Context, ev events.KinesisEvent) Result {
	res := Result{Records: len(ev.Records), Invalid: map[string]int{}}
	set := new(batchSet)
	for i := range ev.Records {
		rec := &ev.Records[i]
		addKinesis(set, &res, rec.EventID, rec.Kinesis.SequenceNumber, rec.Kinesis.Data, rec.Kinesis.ApproximateArrivalTimestamp.Time)
	}
	return h.processBatches(ctx, set.list, res)
}

// processBatches processes the shard batches of one event into res.
func (h *Handler) processBatches(ctx context.Context, batches []*shardBatch, res Result) Result {
	for _, b := range batches {
		h.processShard(ctx, b, &res)
	}
	return res
}

// hourState collects the aggregates of one hour of one shard batch.
type hourState struct {
	start time.Time
	keys  map[typeSource]*keyState
	first int // index of the first record with an event in this hour
}

type typeSource struct{ eventType, source string }

// keyState accumulates one key. The batch deduplicates by fingerprint
// before adding, so the aggregate itself does not track fingerprints: they
// are collected in entries and sorted once when the row is built, which
// costs a fraction of a map insert per event.
type keyState struct {
	agg     *agg.Aggregate
	entries []fpValue
}

type fpValue struct {
	fp    uint64
	value float64
}

func (h *Handler) processShard(ctx context.Context, b *shardBatch, res *Result) {
	seen := newFPSet(len(b.records))
	var (
		hours   []*hourState
		last    *hourState
		lastKey typeSource
		lastKS  *keyState
	)
	deaggregate := h.Deaggregate
	if deaggregate == nil {
		deaggregate = KPL
	}
	one := make([][]byte, 1)
	// The events' strings share the records' bytes: they are hashed and
	// compared here, and the few kept as keys are copied.
	lean := new(event.LeanValidator)
	for i := range b.records {
		rec := &b.records[i]
		one[0] = rec.data
		users := one
		if b.kafka {
			if rec.data == nil {
				res.UserRecords++
				res.Invalid[string(event.ReasonTombstone)]++
				continue
			}
		} else {
			recs, aggregated, err := deaggregate(rec.data)
			if err != nil {
				res.UserRecords++
				res.Invalid[ReasonBadAggregate]++
				continue
			}
			if aggregated {
				users = recs
			}
		}
		received := rec.received
		if received.IsZero() {
			received = h.now()
		}
		for _, u := range users {
			res.UserRecords++
			e, rej := lean.Validate(u, received)
			if rej != nil {
				res.Invalid[string(rej.Reason)]++
				continue
			}
			fp := agg.Fingerprint(e.EventID)
			if !seen.add(fp) {
				res.Duplicates++
				continue
			}
			hour := agg.Window(e.EventTime, agg.Hour)
			if last == nil || !last.start.Equal(hour) {
				last, lastKS = nil, nil
				for _, hs := range hours {
					if hs.start.Equal(hour) {
						last = hs
						break
					}
				}
				if last == nil {
					last = &hourState{start: hour, keys: map[typeSource]*keyState{}, first: i}
					hours = append(hours, last)
				}
			}
			k := typeSource{e.EventType, e.Source}
			if lastKS == nil || k != lastKey {
				lastKS = last.keys[k]
				if lastKS == nil {
					lastKS = &keyState{agg: agg.New(false)}
					k = typeSource{strings.Clone(k.eventType), strings.Clone(k.source)}
					last.keys[k] = lastKS
				}
				lastKey = k
			}
			lastKS.agg.Add(fp, agg.UserHash(e.UserID), e.Value)
			lastKS.entries = append(lastKS.entries, fpValue{fp, e.Value})
			res.Events++
		}
	}
	if len(hours) == 0 {
		return
	}
	first, lastSeq := b.posOf(0), b.posOf(len(b.records)-1)
	if b.kafka {
		first, lastSeq = strconv.FormatInt(b.records[0].offset, 10), strconv.FormatInt(b.records[len(b.records)-1].offset, 10)
	}
	slices.SortFunc(hours, func(x, y *hourState) int { return x.start.Compare(y.start) })
	failedAt := -1
	for _, hs := range hours {
		o := h.writeHour(ctx, b.shard, first, lastSeq, hs)
		if o.Err != nil {
			res.Failed = append(res.Failed, o)
			if failedAt < 0 || hs.first < failedAt {
				failedAt = hs.first
			}
			continue
		}
		res.Objects = append(res.Objects, o)
	}
	switch {
	case failedAt < 0:
	case b.kafka:
		res.KafkaFailures = append(res.KafkaFailures, KafkaBatchItemFailure{ItemIdentifier: KafkaItemIdentifier{
			Partition: b.shard, Offset: b.records[failedAt].offset}})
	default:
		res.Failures = append(res.Failures, events.KinesisBatchItemFailure{ItemIdentifier: b.posOf(failedAt)})
	}
}

// rows builds the speed-view rows of one hour in key order. Each row is
// what views.FromAggregate makes of a tracked aggregate of the same events:
// fingerprints ascending with their values, and value_sum added in
// fingerprint order so it does not depend on arrival order.
func (hs *hourState) rows() ([]views.Row, error) {
	keys := make([]typeSource, 0, len(hs.keys))
	for k := range hs.keys {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y typeSource) int {
		if c := strings.Compare(x.eventType, y.eventType); c != 0 {
			return c
		}
		return strings.Compare(x.source, y.source)
	})
	rows := make([]views.Row, 0, len(keys))
	for _, k := range keys {
		ks := hs.keys[k]
		slices.SortFunc(ks.entries, func(x, y fpValue) int {
			switch {
			case x.fp < y.fp:
				return -1
			case x.fp > y.fp:
				return 1
			}
			return 0
		})
		fps := make([]uint64, len(ks.entries))
		vals := make([]float64, len(ks.entries))
		var sum float64
		for i, en := range ks.entries {
			fps[i], vals[i] = en.fp, en.value
			sum += en.value
		}
		ks.agg.Events, ks.agg.ValueSum = int64(len(ks.entries)), sum
		r, err := views.FromAggregate(agg.Key{WindowStart: hs.start, EventType: k.eventType, Source: k.source}, ks.agg)
		if err != nil {
			return nil, err
		}
		r.Fingerprints, r.Values = fps, vals
		rows = append(rows, r)
	}
	return rows, nil
}

func (h *Handler) writeHour(ctx context.Context, shard, first, last string, hs *hourState) Object {
	o := Object{Key: ObjectKey(shard, first, last, hs.start), Shard: shard, Hour: hs.start}
	rows, err := hs.rows()
	if err != nil {
		o.Err = fmt.Errorf("building speed view %s: %w", o.Key, err)
		return o
	}
	o.Rows = len(rows)
	for i := range rows {
		o.Events += rows[i].Events
		o.ValueSum += rows[i].ValueSum
	}
	data, err := views.Encode(glue.SpeedView, rows)
	if err != nil {
		o.Err = fmt.Errorf("encoding speed view %s: %w", o.Key, err)
		return o
	}
	o.Bytes = len(data)
	if err := h.Store.Put(ctx, o.Key, data); err != nil {
		o.Err = fmt.Errorf("writing speed view %s: %w", storage.Join(h.Store.Location(), o.Key), err)
	}
	return o
}

// ObjectKey is the key of the speed object of one hour of one shard batch:
// speed/dt=YYYY-MM-DD/hour=HH/<shard>-<first>-<last>.parquet. For Kafka the
// shard is "<topic>-<partition>" and first and last are offsets.
func ObjectKey(shard, firstSeq, lastSeq string, hour time.Time) string {
	hour = hour.UTC()
	return fmt.Sprintf("%sdt=%s/hour=%02d/%s-%s-%s.parquet", glue.SpeedView.Prefix,
		hour.Format("2006-01-02"), hour.Hour(), shard, firstSeq, lastSeq)
}

// shardOf reads the shard id from the record's eventID
// ("shardId-000000000000:<sequence number>") and checks that the shard id
// and sequence number are safe in an object key.
func shardOf[S string | []byte](eventID, seq S) (S, bool) {
	for i := 0; i < len(eventID); i++ {
		if eventID[i] == ':' {
			if shard := eventID[:i]; safeName(shard) && safeName(seq) {
				return shard, true
			}
			break
		}
	}
	return eventID[:0], false
}

func safeName[S string | []byte](s S) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameByte[s[i]] {
			return false
		}
	}
	return true
}

// nameByte marks the bytes of a safe name: one load per byte, where the
// comparisons took 6% of BenchmarkHandle (two names per record).
var nameByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == '.' || c == '-'
	}
	return t
}()
