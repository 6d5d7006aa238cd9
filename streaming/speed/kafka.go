package speed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

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
	var (
		batches []*shardBatch
		b       *shardBatch // the batch of the last record's partition
	)
	for _, k := range keys {
		for i := range ev.Records[k] {
			rec := &ev.Records[k][i]
			if b == nil || b.topic != rec.Topic || b.partition != rec.Partition {
				b = nil
				shard := rec.Topic + "-" + strconv.FormatInt(rec.Partition, 10)
				if rec.Topic != "" && rec.Partition >= 0 && safeName(shard) {
					b = batchFor(&batches, shard, true)
					b.topic, b.partition = rec.Topic, rec.Partition
				}
			}
			if b == nil || rec.Offset < 0 {
				res.Invalid[ReasonBadRecord]++
				res.UserRecords++
				continue
			}
			it := item{offset: rec.Offset, data: rec.Value}
			if rec.Timestamp > 0 {
				it.received = time.UnixMilli(rec.Timestamp)
			}
			b.records = append(b.records, it)
		}
	}
	for _, b := range batches {
		h.processShard(ctx, b, &res)
	}
	return res
}

// ParseKafkaEvent decodes Kafka event JSON, the keys and values
// base64-decoded into one buffer, without reflection. On a 10,000-record
// event of ~300-byte values it reads ~820,000 records per CPU second, where
// encoding/json into events.KafkaEvent plus decoding the values reads
// ~230,000 (3.5x; go test -run '^$' -bench 'ParseKafka|DecodeKafka' -cpu 1
// ./streaming/speed/), which decides the speed handler's end-to-end rate
// as it does for Kinesis events.
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
	var (
		kin    events.KinesisEvent
		kaf    KafkaEvent
		source string
		shape  byte // '[' Kinesis records, '{' Kafka records, 0 none
	)
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
				kin.Records = make([]events.KinesisEventRecord, 0, len(payload)/300+1)
				return p.array(func() error {
					kin.Records = append(kin.Records, events.KinesisEventRecord{})
					return p.record(&kin.Records[len(kin.Records)-1])
				})
			}
			shape = '{'
			kaf.Records = map[string][]KafkaRecord{}
			return p.object(func(tp []byte) error {
				var recs []KafkaRecord
				if !p.null() {
					err := p.array(func() error {
						recs = append(recs, KafkaRecord{})
						return p.kafkaRecord(&recs[len(recs)-1])
					})
					if err != nil {
						return err
					}
				}
				kaf.Records[string(tp)] = recs
				return nil
			})
		case bytes.EqualFold(key, []byte("eventSource")):
			source, err = p.str()
		case bytes.EqualFold(key, []byte("eventSourceArn")):
			kaf.EventSourceARN, err = p.str()
		case bytes.EqualFold(key, []byte("bootstrapServers")):
			kaf.BootstrapServers, err = p.str()
		default:
			err = p.skip(0)
		}
		return err
	})
	if err == nil {
		err = p.end()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%w (%s)", err, errNotAnEvent)
	}
	switch shape {
	case '[':
		if source != "" {
			return nil, nil, fmt.Errorf("reading the event: Kinesis records under eventSource %q: %s", source, errNotAnEvent)
		}
		for i := range kin.Records {
			if s := kin.Records[i].EventSource; s != "" && s != SourceKinesis {
				return nil, nil, fmt.Errorf("reading the event: record %d has eventSource %q: %s", i, s, errNotAnEvent)
			}
		}
		return &kin, nil, nil
	case '{':
		if source != SourceMSK && source != SourceSelfManagedKafka {
			return nil, nil, fmt.Errorf("reading the event: records by topic-partition under eventSource %q: %s", source, errNotAnEvent)
		}
		kaf.EventSource = source
		return nil, &kaf, nil
	}
	return nil, nil, fmt.Errorf("reading the event: no records: %s", errNotAnEvent)
}

var kafkaFields = []string{"topic", "partition", "offset", "timestamp", "timestampType", "key", "value", "headers"}

func (p *evParser) kafkaRecord(r *KafkaRecord) error {
	if p.null() {
		return nil
	}
	return p.object(func(key []byte) error {
		var err error
		switch fieldIndex(key, kafkaFields) {
		case 0:
			r.Topic, err = p.str()
		case 1:
			r.Partition, err = p.int64()
		case 2:
			r.Offset, err = p.int64()
		case 3:
			r.Timestamp, err = p.int64()
		case 4:
			r.TimestampType, err = p.str()
		case 5:
			if p.null() {
				r.Key = nil
				return nil
			}
			r.Key, err = p.base64Data()
		case 6:
			if p.null() {
				r.Value = nil
				return nil
			}
			r.Value, err = p.base64Data()
		case 7:
			err = p.headers(&r.Headers)
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

// headers reads [{"name": [signed bytes]}, …].
func (p *evParser) headers(hs *[]KafkaHeader) error {
	if p.null() {
		*hs = nil
		return nil
	}
	*hs = (*hs)[:0]
	return p.array(func() error {
		return p.object(func(name []byte) error {
			h := KafkaHeader{Key: string(name), Value: []byte{}}
			if p.null() {
				*hs = append(*hs, h)
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
			*hs = append(*hs, h)
			return err
		})
	})
}
