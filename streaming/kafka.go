package streaming

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	awssasl "github.com/twmb/franz-go/pkg/sasl/aws"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms a KafkaConfig names.
const (
	SASLNone        = "none"
	SASLPlain       = "plain"
	SASLScramSHA512 = "scram-sha-512"
	SASLAWSMSKIAM   = "aws-msk-iam"
)

// SASLMechanisms lists the mechanisms in the order --help shows them.
var SASLMechanisms = []string{SASLNone, SASLPlain, SASLScramSHA512, SASLAWSMSKIAM}

// KafkaConfig says how to reach one Kafka topic (Amazon MSK or any Kafka).
type KafkaConfig struct {
	Brokers []string
	Topic   string
	// SASL is one of SASLMechanisms ("" = none).
	SASL string
	// User and Password authenticate PLAIN and SCRAM-SHA-512.
	User, Password string
	// Credentials sign AWS_MSK_IAM sessions; each new connection asks
	// the provider again, so a caching provider (what the standard AWS
	// configuration gives) refreshes expiring credentials.
	Credentials aws.CredentialsProvider
	// TLS turns TLS on; TLSConfig (optional) is its configuration.
	TLS       bool
	TLSConfig *tls.Config
}

// clientOpts are the franz-go options every client of the config shares.
func (c KafkaConfig) clientOpts() ([]kgo.Opt, error) {
	if len(c.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers")
	}
	if c.Topic == "" {
		return nil, errors.New("kafka: no topic")
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.TLS || c.TLSConfig != nil {
		tc := c.TLSConfig
		if tc == nil {
			tc = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	m, err := c.mechanism()
	if err != nil {
		return nil, err
	}
	if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

func (c KafkaConfig) mechanism() (sasl.Mechanism, error) {
	switch strings.ToLower(c.SASL) {
	case "", SASLNone:
		return nil, nil
	case SASLPlain:
		if c.User == "" {
			return nil, errors.New("kafka: SASL PLAIN needs a user name")
		}
		return plain.Auth{User: c.User, Pass: c.Password}.AsMechanism(), nil
	case SASLScramSHA512:
		if c.User == "" {
			return nil, errors.New("kafka: SASL SCRAM-SHA-512 needs a user name")
		}
		return scram.Auth{User: c.User, Pass: c.Password}.AsSha512Mechanism(), nil
	case SASLAWSMSKIAM:
		if c.Credentials == nil {
			return nil, errors.New("kafka: AWS_MSK_IAM needs AWS credentials")
		}
		return MSKIAM(c.Credentials), nil
	}
	return nil, fmt.Errorf("kafka: unknown SASL mechanism %q (want one of %s)", c.SASL, strings.Join(SASLMechanisms, ", "))
}

// MSKIAM is the AWS_MSK_IAM mechanism signing each session with
// credentials retrieved from p at that moment.
func MSKIAM(p aws.CredentialsProvider) sasl.Mechanism {
	return awssasl.ManagedStreamingIAM(func(ctx context.Context) (awssasl.Auth, error) {
		v, err := p.Retrieve(ctx)
		if err != nil {
			return awssasl.Auth{}, fmt.Errorf("retrieving AWS credentials for AWS_MSK_IAM: %w", err)
		}
		return awssasl.Auth{AccessKey: v.AccessKeyID, SecretKey: v.SecretAccessKey, SessionToken: v.SessionToken}, nil
	})
}

// kafkaPutTimeout bounds one PutRecords call.
const kafkaPutTimeout = 30 * time.Second

// KafkaSink puts records on a Kafka topic with an idempotent producer
// (acks from all in-sync replicas), batching per partition, compression
// (lz4, else snappy, else none, as the broker supports) and franz-go's
// retries of retriable errors. Key = PartitionKey, so one key keeps one
// partition and its order. Close it when done.
type KafkaSink struct {
	// Now, when set, stamps every record's timestamp (the demo puts all
	// records at its run's now); nil leaves it to the client's clock.
	Now func() time.Time

	client *kgo.Client
	topic  string

	mu        sync.Mutex
	permanent error // the first permanent error; every later call fails with it
}

// NewKafkaSink connects a producer to cfg's topic. extra options go last
// (tests tune timeouts with them).
func NewKafkaSink(ctx context.Context, cfg KafkaConfig, extra ...kgo.Opt) (*KafkaSink, error) {
	opts, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	opts = append(opts,
		kgo.DefaultProduceTopic(cfg.Topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.SnappyCompression(), kgo.NoCompression()),
		kgo.ProducerLinger(5*time.Millisecond),
		// The topic is never created by producing to it; an unknown one
		// fails the records after two metadata loads. (No
		// RecordDeliveryTimeout: franz-go measures it from the record's
		// timestamp, which Now may set in the past; PutRecords bounds each
		// call with its context instead.)
		kgo.UnknownTopicRetries(2),
	)
	opts = append(opts, extra...)
	if err := ping(ctx, cfg, opts); err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, kgo.AlwaysRetryEOF())...)
	if err != nil {
		return nil, fmt.Errorf("connecting a Kafka producer to %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	return &KafkaSink{client: cl, topic: cfg.Topic}, nil
}

// ping connects to a broker, with a client of its own, so a wrong address,
// TLS setting or credential is one error before any record is read. An
// authentication failure is permanent.
//
// The clients that do the work are made after it with
// kgo.AlwaysRetryEOF. franz-go takes a connection the broker closes at its
// first read for a configuration error (SASL or TLS missing) and does not
// retry it; once ping has shown the configuration right, such a close is a
// broken connection (a broker restarting, as MSK's do in maintenance) and
// the request is retried. Without it, one closed connection failed a whole
// read (TestKafkaFaults).
func ping(ctx context.Context, cfg KafkaConfig, opts []kgo.Opt) error {
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("connecting to Kafka at %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// A connection closed at its first read is tried twice more: a
	// configuration error closes every one, a broken connection not.
	for attempt := 1; ; attempt++ {
		err = cl.Ping(ctx)
		var eof *kgo.ErrFirstReadEOF
		if err == nil || !errors.As(err, &eof) || attempt == 3 || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(time.Duration(attempt) * 200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if err != nil {
		if permanentKafka(err) {
			err = fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return fmt.Errorf("connecting to Kafka at %s (SASL %s, TLS %t): %w", strings.Join(cfg.Brokers, ","), cmp.Or(cfg.SASL, SASLNone), cfg.TLS, err)
	}
	return nil
}

// Close closes the producer's connections.
func (k *KafkaSink) Close() { k.client.Close() }

// PutRecords implements Sink: it produces every record and waits for each
// acknowledgement. ShardID is the partition and SequenceNumber the offset.
// A permanent error (an unknown topic, an authorization or authentication
// failure) fails the call as a whole with ErrPermanent, and every later
// call at once: retrying cannot fix it.
func (k *KafkaSink) PutRecords(ctx context.Context, records []Record) ([]PutResult, error) {
	k.mu.Lock()
	perm := k.permanent
	k.mu.Unlock()
	if perm != nil {
		return nil, perm
	}
	// Records not acknowledged in time fail (franz-go fails a record
	// whose context ends before it is sent) and the Producer retries them,
	// instead of waiting on a broker that never answers.
	ctx, cancel := context.WithTimeout(ctx, kafkaPutTimeout)
	defer cancel()
	res := make([]PutResult, len(records))
	errs := make([]error, len(records))
	var wg sync.WaitGroup
	wg.Add(len(records))
	for i, r := range records {
		rec := &kgo.Record{Topic: k.topic, Key: []byte(r.PartitionKey), Value: r.Data}
		if k.Now != nil {
			rec.Timestamp = k.Now()
		}
		k.client.Produce(ctx, rec, func(rec *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				errs[i] = err
				res[i] = PutResult{ErrorCode: kafkaErrorCode(err), ErrorMessage: err.Error()}
				return
			}
			res[i] = PutResult{ShardID: strconv.Itoa(int(rec.Partition)), SequenceNumber: strconv.FormatInt(rec.Offset, 10)}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && permanentKafka(err) {
			perm = fmt.Errorf("producing to Kafka topic %s: %w: %w", k.topic, ErrPermanent, err)
			k.mu.Lock()
			if k.permanent == nil {
				k.permanent = perm
			}
			k.mu.Unlock()
			return nil, perm
		}
	}
	return res, nil
}

// kafkaErrorCode names a produce error for PutResult.ErrorCode.
func kafkaErrorCode(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	switch {
	case errors.Is(err, kgo.ErrRecordTimeout):
		return "RECORD_TIMEOUT"
	case errors.Is(err, kgo.ErrRecordRetries):
		return "RECORD_RETRIES"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "CANCELED"
	}
	return "PRODUCE_ERROR"
}

// permanentKafka reports errors a retry cannot fix: a Kafka error the
// protocol marks not retriable (an unknown topic once the client gave up
// waiting for it, authorization, SASL authentication, a record too large),
// or a SASL handshake the broker refused.
func permanentKafka(err error) bool {
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return !ke.Retriable
	}
	return errors.Is(err, kgo.ErrClientClosed)
}

// KafkaSource reads the partitions of a Kafka topic as shards: the shard
// id is the partition number and the position the offset. It keeps one
// reading client per partition positioned after the last record it
// returned, so reading on costs one fetch. Close it when done.
type KafkaSource struct {
	cfg   KafkaConfig
	opts  []kgo.Opt
	admin *kadm.Client
	meta  *kgo.Client

	mu      sync.Mutex
	cursors map[int32]*kafkaCursor
}

type kafkaCursor struct {
	client *kgo.Client
	next   int64 // the offset the client returns next
}

// NewKafkaSource connects to cfg's topic for reading.
func NewKafkaSource(ctx context.Context, cfg KafkaConfig, extra ...kgo.Opt) (*KafkaSource, error) {
	opts, err := cfg.clientOpts()
	if err != nil {
		return nil, err
	}
	opts = append(opts, extra...)
	if err := ping(ctx, cfg, opts); err != nil {
		return nil, err
	}
	opts = append(opts, kgo.AlwaysRetryEOF()) // see ping
	meta, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to Kafka at %s: %w", strings.Join(cfg.Brokers, ","), err)
	}
	return &KafkaSource{cfg: cfg, opts: opts, meta: meta, admin: kadm.NewClient(meta), cursors: map[int32]*kafkaCursor{}}, nil
}

// Close closes every client of the source.
func (k *KafkaSource) Close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	for p, c := range k.cursors {
		c.client.Close()
		delete(k.cursors, p)
	}
	k.meta.Close()
}

// Shards implements Source: one shard per partition, in partition order.
// Kafka partitions have no parents and no hash ranges.
func (k *KafkaSource) Shards(ctx context.Context) ([]Shard, error) {
	parts, err := kafkaPartitions(ctx, k.admin, k.cfg.Topic)
	if err != nil {
		return nil, err
	}
	out := make([]Shard, len(parts))
	for i, p := range parts {
		out[i] = Shard{ID: strconv.Itoa(int(p))}
	}
	return out, nil
}

// kafkaPartitions lists the partitions of topic, sorted.
func kafkaPartitions(ctx context.Context, admin *kadm.Client, topic string) ([]int32, error) {
	td, err := admin.ListTopics(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("listing partitions of Kafka topic %s: %w", topic, err)
	}
	t, ok := td[topic]
	if !ok || t.Err != nil {
		if ok {
			err = t.Err
		} else {
			err = kerr.UnknownTopicOrPartition
		}
		return nil, fmt.Errorf("listing partitions of Kafka topic %s: %w", topic, err)
	}
	parts := t.Partitions.Numbers()
	slices.Sort(parts)
	return parts, nil
}

// ReadShard implements Source. after is the offset of the last record
// handled ("" = from the oldest record kept); a Kafka partition is never
// closed.
func (k *KafkaSource) ReadShard(ctx context.Context, shard, after string, limit int) (ShardBatch, error) {
	p64, err := strconv.ParseInt(shard, 10, 32)
	if err != nil || p64 < 0 {
		return ShardBatch{}, fmt.Errorf("reading Kafka topic %s: shard %q is not a partition number", k.cfg.Topic, shard)
	}
	part := int32(p64)
	from := kgo.NewOffset().AtStart()
	next := int64(-1)
	if after != "" {
		o, err := strconv.ParseInt(after, 10, 64)
		if err != nil || o < 0 {
			return ShardBatch{}, fmt.Errorf("reading Kafka topic %s partition %d: position %q is not an offset", k.cfg.Topic, part, after)
		}
		next = o + 1
		from = kgo.NewOffset().At(next)
	}
	if limit <= 0 {
		limit = 10000
	}
	ends, err := k.admin.ListEndOffsets(ctx, k.cfg.Topic)
	if err != nil {
		return ShardBatch{}, fmt.Errorf("listing end offsets of Kafka topic %s: %w", k.cfg.Topic, err)
	}
	end, ok := ends.Lookup(k.cfg.Topic, part)
	if !ok || end.Err != nil {
		return ShardBatch{}, fmt.Errorf("listing the end offset of Kafka topic %s partition %d: %v", k.cfg.Topic, part, end.Err)
	}
	if next >= end.Offset {
		return ShardBatch{}, nil
	}
	if next < 0 {
		starts, err := k.admin.ListStartOffsets(ctx, k.cfg.Topic)
		if err != nil {
			return ShardBatch{}, fmt.Errorf("listing start offsets of Kafka topic %s: %w", k.cfg.Topic, err)
		}
		if s, ok := starts.Lookup(k.cfg.Topic, part); ok && s.Err == nil && s.Offset >= end.Offset {
			return ShardBatch{}, nil
		}
	}
	cur, err := k.cursor(part, next, from)
	if err != nil {
		return ShardBatch{}, err
	}
	pollCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var b ShardBatch
	for len(b.Records) == 0 {
		fs := cur.client.PollRecords(pollCtx, limit)
		if err := ctx.Err(); err != nil {
			return ShardBatch{}, err
		}
		if pollCtx.Err() != nil {
			return ShardBatch{}, fmt.Errorf("reading Kafka topic %s partition %d from offset %d: no record within 30s although the end offset is %d", k.cfg.Topic, part, next, end.Offset)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = errors.Join(ferr, err) })
		if ferr != nil {
			k.drop(part)
			return ShardBatch{}, fmt.Errorf("reading Kafka topic %s partition %d: %w", k.cfg.Topic, part, ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Partition != part || r.Offset < cur.next {
				return
			}
			b.Records = append(b.Records, StreamRecord{ShardID: shard, SequenceNumber: strconv.FormatInt(r.Offset, 10),
				PartitionKey: string(r.Key), Data: r.Value, ArrivalTime: r.Timestamp})
			cur.next = r.Offset + 1
		})
	}
	return b, nil
}

// cursor returns the partition's reading client positioned at next, making
// one when there is none or it stands elsewhere.
func (k *KafkaSource) cursor(part int32, next int64, from kgo.Offset) (*kafkaCursor, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.cursors[part]; ok {
		if next >= 0 && c.next == next {
			return c, nil
		}
		c.client.Close()
		delete(k.cursors, part)
	}
	opts := append(slices.Clip(k.opts), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{k.cfg.Topic: {part: from}}))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting a Kafka reader of %s partition %d: %w", k.cfg.Topic, part, err)
	}
	c := &kafkaCursor{client: cl, next: max(next, 0)}
	k.cursors[part] = c
	return c, nil
}

func (k *KafkaSource) drop(part int32) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if c, ok := k.cursors[part]; ok {
		c.client.Close()
		delete(k.cursors, part)
	}
}
