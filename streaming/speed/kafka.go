package speed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Event sources of the Kafka event source mappings (Amazon MSK, and a
// self-managed Kafka cluster).
const (
	SourceMSK              = "aws:kafka"
	SourceSelfManagedKafka = "aws:SelfManagedKafka"
	SourceKinesis          = "aws:kinesis"
)

// KafkaEvent is what a Kafka event source mapping sends the function:
// records by "<topic>-<partition>", key and value base64 in the JSON and
// decoded here.
type KafkaEvent struct {
	EventSource      string                   `json:"eventSource"`
	EventSourceARN   string                   `json:"eventSourceArn,omitempty"`
	BootstrapServers string                   `json:"bootstrapServers,omitempty"`
	Records          map[string][]KafkaRecord `json:"records"`
}

// KafkaRecord is one Kafka record of an event.
type KafkaRecord struct {
	Topic         string `json:"topic"`
	Partition     int64  `json:"partition"`
	Offset        int64  `json:"offset"`
	Timestamp     int64  `json:"timestamp"` // milliseconds since the epoch
	TimestampType string `json:"timestampType,omitempty"`
	Key           []byte `json:"key,omitempty"`
	// Value is nil for a null value (a tombstone), empty for an empty one.
	Value   []byte        `json:"value"`
	Headers []KafkaHeader `json:"headers,omitempty"`
}

// KafkaHeader is one record header. In the event JSON each header is an
// object {"name": [bytes as signed integers]}.
type KafkaHeader struct {
	Key   string
	Value []byte
}

// MarshalJSON writes the header as the event source mapping does.
func (h KafkaHeader) MarshalJSON() ([]byte, error) {
	signed := make([]int8, len(h.Value))
	for i, b := range h.Value {
		signed[i] = int8(b)
	}
	return json.Marshal(map[string][]int8{h.Key: signed})
}

// KafkaEventResponse is the partial-batch response of a Kafka event source
// mapping.
type KafkaEventResponse struct {
	BatchItemFailures []KafkaBatchItemFailure `json:"batchItemFailures"`
}

// KafkaBatchItemFailure names the record a Kafka mapping retries from.
type KafkaBatchItemFailure struct {
	ItemIdentifier KafkaItemIdentifier `json:"itemIdentifier"`
}

// KafkaItemIdentifier is a record's partition ("<topic>-<n>") and offset.
type KafkaItemIdentifier struct {
	Partition string `json:"partition"`
	Offset    int64  `json:"offset"`
}

// HandleKafka is Handle for a Kafka event.
func (h *Handler) HandleKafka(ctx context.Context, ev KafkaEvent) (KafkaEventResponse, error) {
	res := h.ProcessKafka(ctx, ev)
	return KafkaEventResponse{BatchItemFailures: res.KafkaFailures}, nil
}

// ProcessKafka is Process for a Kafka event: the records of each
// partition are one shard batch, keyed "<topic>-<partition>" with their
// first and last offsets, and validated against their Kafka timestamps. A
// record with a null value (a tombstone) counts as invalid with reason
// event.ReasonTombstone.
func (h *Handler) ProcessKafka(ctx context.Context, ev KafkaEvent) Result {
	res := h.processKafka(ctx, ev)
	h.report(&res)
	return res
}

func (h *Handler) processKafka(ctx context.Context, ev KafkaEvent) Result {
	keys := make([]string, 0, len(ev.Records))
	n := 0
	for k, recs := range ev.Records {
		keys = append(keys, k)
		n += len(recs)
	}
	slices.Sort(keys)
	res := Result{Records: n, Invalid: map[string]int{}}
	set := new(batchSet)
	for _, k := range keys {
		for i := range ev.Records[k] {
			rec := &ev.Records[k][i]
			addKafka(set, &res, rec.Topic, rec.Partition, rec.Offset, rec.Timestamp, rec.Value)
		}
	}
	return h.processBatches(ctx, set.list, res)
}

// ParseKafkaEvent decodes Kafka event JSON, the keys and values
// base64-decoded into one buffer, without reflection. On a 10,000-record
// event of ~300-byte values it reads ~1M records per CPU second, where
// encoding/json into events.KafkaEvent plus decoding the values reads
// ~230,000 (4.6x; go test -run '^$' -bench 'ParseKafka|DecodeKafka' -cpu 1
// ./streaming/speed/). Invoke reads the same way but builds no typed event.
func ParseKafkaEvent(payload []byte) (KafkaEvent, error) {
	kin, kaf, err := parseEvent(payload)
	if err != nil {
		return KafkaEvent{}, err
	}
	if kaf == nil {
		return KafkaEvent{}, fmt.Errorf("reading Kafka event JSON: this is a Kinesis event (%d records)", len(kin.Records))
	}
	return *kaf, nil
}

// errNotAnEvent says what the speed handler takes.
const errNotAnEvent = `want a Kinesis event ("Records": [...] from eventSource aws:kinesis) or a Kafka event ` +
	`("eventSource": "aws:kafka" or "aws:SelfManagedKafka", "records" by topic-partition)`

// ParseEvent reads either kind of event, deciding by eventSource and the
// shape of the records: an array of Kinesis records, or an object of Kafka
// records by topic-partition. Exactly one of the results is non-nil
// without an error; a payload that is neither kind is an error saying
// what is expected.
func ParseEvent(payload []byte) (*events.KinesisEvent, *KafkaEvent, error) {
	return parseEvent(payload)
}

func parseEvent(payload []byte) (*events.KinesisEvent, *KafkaEvent, error) {
	p := &evParser{s: payload, what: "event"}
	shape, err := p.event()
	if err != nil {
		return nil, nil, err
	}
	if shape == '[' {
		return &events.KinesisEvent{Records: p.typedKinesis()}, nil, nil
	}
	var src string
	kaf := KafkaEvent{EventSource: p.text(p.source, &src), EventSourceARN: p.text(p.arn, &src),
		BootstrapServers: p.text(p.servers, &src), Records: make(map[string][]KafkaRecord, len(p.groups))}
	for _, g := range p.groups {
		var recs []KafkaRecord
		if g.hi > g.lo {
			recs = make([]KafkaRecord, g.hi-g.lo)
		}
		for i := range recs {
			r := &p.kaf[g.lo+i]
			recs[i] = KafkaRecord{Topic: p.text(r.topic, &src), Partition: r.partition, Offset: r.offset, Timestamp: r.timestamp,
				TimestampType: p.text(r.timestampType, &src), Key: p.bytesOf(r.key), Value: p.bytesOf(r.value)}
			if r.hdrHi > r.hdrLo {
				recs[i].Headers = p.hdrs[r.hdrLo:r.hdrHi:r.hdrHi]
			}
		}
		kaf.Records[g.key] = recs
	}
	return nil, &kaf, nil
}

// event reads either kind of event into p and returns its shape: '[' for
// Kinesis records (p.kin, or p.set), '{' for Kafka records (p.groups, p.kaf, and
// the event's source, arn and servers).
func (p *evParser) event() (byte, error) {
	var shape byte // '[' Kinesis records, '{' Kafka records, 0 none
	err := p.object(func(key []byte) error {
		var err error
		switch {
		case bytes.EqualFold(key, []byte("records")):
			p.ws()
			if p.null() {
				shape = 0
				return nil
			}
			if p.pos < len(p.s) && p.s[p.pos] == '[' {
				shape = '['
				return p.kinesisRecords()
			}
			shape = '{'
			p.groups, p.kaf, p.hdrs = p.groups[:0], p.kaf[:0], p.hdrs[:0]
			if p.streamed = p.set != nil; p.streamed {
				p.set.reset()
				*p.res = Result{Invalid: map[string]int{}}
			}
			return p.object(func(tp []byte) error {
				g := kafkaGroup{lo: len(p.kaf)}
				if n := len(p.groups); n > 0 && string(tp) <= p.groups[n-1].key {
					p.streamed = false // kafkaBatches sorts the keys
				}
				if !p.null() {
					err := p.array(func() error {
						p.kaf = append(p.kaf, rawKafka{})
						r := &p.kaf[len(p.kaf)-1]
						if err := p.kafkaRecord(r); err != nil || !p.streamed {
							return err
						}
						p.res.Records++
						addKafka(p.set, p.res, p.bytesOf(r.topic), r.partition, r.offset, r.timestamp, p.bytesOf(r.value))
						return nil
					})
					if err != nil {
						return err
					}
				}
				g.hi = len(p.kaf)
				// As in a map, the last of a repeated key wins.
				for i := range p.groups {
					if p.groups[i].key == string(tp) {
						g.key = p.groups[i].key
						p.groups[i] = g
						return nil
					}
				}
				g.key = string(tp)
				p.groups = append(p.groups, g)
				return nil
			})
		case bytes.EqualFold(key, []byte("eventSource")):
			p.source, err = p.str()
		case bytes.EqualFold(key, []byte("eventSourceArn")):
			p.arn, err = p.str()
		case bytes.EqualFold(key, []byte("bootstrapServers")):
			p.servers, err = p.str()
		default:
			err = p.skip(0)
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return 0, fmt.Errorf("%w (%s)", err, errNotAnEvent)
	}
	source := p.bytesOf(p.source)
	switch shape {
	case '[':
		if len(source) != 0 {
			return 0, fmt.Errorf("reading the event: Kinesis records under eventSource %q: %s", source, errNotAnEvent)
		}
		if p.bad >= 0 {
			return 0, fmt.Errorf("reading the event: record %d has eventSource %q: %s", p.bad, p.bytesOf(p.badSource), errNotAnEvent)
		}
		return shape, nil
	case '{':
		if string(source) != SourceMSK && string(source) != SourceSelfManagedKafka {
			return 0, fmt.Errorf("reading the event: records by topic-partition under eventSource %q: %s", source, errNotAnEvent)
		}
		return shape, nil
	}
	return 0, fmt.Errorf("reading the event: no records: %s", errNotAnEvent)
}

// rawKafka is one Kafka record as read: the fields of KafkaRecord, its
// headers p.hdrs[hdrLo:hdrHi].
type rawKafka struct {
	topic, timestampType         span
	partition, offset, timestamp int64
	key, value                   span
	hdrLo, hdrHi                 int
}

// kafkaGroup is the records of one topic-partition key, p.kaf[lo:hi].
type kafkaGroup struct {
	key    string
	lo, hi int
}

// kafkaBatches adds the Kafka records to set, by partition in the order
// of their keys (as ProcessKafka reads a KafkaEvent), and returns the
// batches. Keys that came in that order, each once, were added as they
// were read (p.streamed, as kinesisRecords does); others are added here,
// in a second pass. The records' data is p's: valid until p is reused.
func (p *evParser) kafkaBatches(set *batchSet) ([]*shardBatch, Result) {
	if p.streamed {
		return set.list, *p.res
	}
	set.reset() // of Kinesis records before the Kafka ones, or some of these
	slices.SortFunc(p.groups, func(x, y kafkaGroup) int { return strings.Compare(x.key, y.key) })
	n := 0
	for _, g := range p.groups {
		n += g.hi - g.lo
	}
	res := Result{Records: n, Invalid: map[string]int{}}
	for _, g := range p.groups {
		for i := g.lo; i < g.hi; i++ {
			r := &p.kaf[i]
			addKafka(set, &res, p.bytesOf(r.topic), r.partition, r.offset, r.timestamp, p.bytesOf(r.value))
		}
	}
	return set.list, res
}

func (p *evParser) kafkaRecord(r *rawKafka) error {
	if p.null() {
		return nil
	}
	return p.fields(kafkaFields, func(i int) error {
		var err error
		switch i {
		case 0:
			r.topic, err = p.str()
		case 1:
			r.partition, err = p.int64()
		case 2:
			r.offset, err = p.int64()
		case 3:
			r.timestamp, err = p.int64()
		case 4:
			r.timestampType, err = p.str()
		case 5:
			if p.null() {
				r.key = span{}
				return nil
			}
			r.key, err = p.base64Data()
		case 6:
			if p.null() {
				r.value = span{}
				return nil
			}
			r.value, err = p.base64Data()
		case 7:
			r.hdrLo, r.hdrHi, err = p.headers()
		default:
			err = p.skip(0)
		}
		return err
	})
}

// int64 reads an integer (null: 0).
func (p *evParser) int64() (int64, error) {
	if p.null() {
		return 0, nil
	}
	num, err := p.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil {
		return 0, p.errorf("want an integer, have " + string(num))
	}
	return v, nil
}

// headers reads [{"name": [signed bytes]}, …] onto p.hdrs and returns
// where they are.
func (p *evParser) headers() (lo, hi int, err error) {
	lo = len(p.hdrs)
	if p.null() {
		return lo, lo, nil
	}
	err = p.array(func() error {
		return p.object(func(name []byte) error {
			h := KafkaHeader{Key: string(name), Value: []byte{}}
			if p.null() {
				p.hdrs = append(p.hdrs, h)
				return nil
			}
			err := p.array(func() error {
				v, err := p.int64()
				if err != nil {
					return err
				}
				if v < -128 || v > 127 {
					return p.errorf(fmt.Sprintf("header %s: %d is not a signed byte", name, v))
				}
				h.Value = append(h.Value, byte(int8(v)))
				return nil
			})
			p.hdrs = append(p.hdrs, h)
			return err
		})
	})
	return lo, len(p.hdrs), err
}
