package streaming_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
)

// fakeKafka starts an in-process Kafka cluster with topic "events" of
// partitions partitions.
func fakeKafka(t *testing.T, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	return testenv.Kafka(t, "events", partitions, opts...)
}

func kafkaCfg(c *kfake.Cluster) streaming.KafkaConfig {
	return streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "events"}
}

// produceAll puts n records through a Producer on a KafkaSink.
func produceAll(t *testing.T, cfg streaming.KafkaConfig, n int) streaming.ProducerStats {
	t.Helper()
	ctx := context.Background()
	sink, err := streaming.NewKafkaSink(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	p, err := streaming.NewProducer(ctx, sink, streaming.ProducerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := streaming.Record{PartitionKey: "user-" + strconv.Itoa(i%7), Data: fmt.Appendf(nil, `{"n":%d}`, i)}
		if err := p.Put(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Close(ctx); err != nil {
		t.Fatalf("closing the producer: %v", err)
	}
	return p.Stats()
}

// readAll reads every partition with a Reader over a KafkaSource.
func readAll(t *testing.T, cfg streaming.KafkaConfig, limit int) map[string][]streaming.StreamRecord {
	t.Helper()
	src, err := streaming.NewKafkaSource(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := map[string][]streaming.StreamRecord{}
	rd := &streaming.Reader{Source: src, Limit: limit}
	var cp streaming.Checkpoint
	if err := rd.CatchUp(context.Background(), &cp, func(_ context.Context, b streaming.Batch) error {
		got[b.ShardID] = append(got[b.ShardID], b.Records...)
		return nil
	}); err != nil {
		t.Fatalf("reading: %v", err)
	}
	return got
}

// roundTrip puts n records on cfg's topic and reads them back, failing
// unless all n are written and read; how names the connection in messages.
func roundTrip(t *testing.T, cfg streaming.KafkaConfig, n int, how string) {
	t.Helper()
	if st := produceAll(t, cfg, n); st.Records != int64(n) {
		t.Fatalf("wrote %d records%s, want %d", st.Records, how, n)
	}
	read := 0
	for _, recs := range readAll(t, cfg, 100) {
		read += len(recs)
	}
	if read != n {
		t.Fatalf("read %d records%s, want %d", read, how, n)
	}
}

func TestKafkaSinkAndSourceRoundTrip(t *testing.T) {
	c := fakeKafka(t, 3)
	cfg := kafkaCfg(c)
	st := produceAll(t, cfg, 500)
	if st.Records != 500 || st.Failed != 0 || st.InFlight != 0 {
		t.Fatalf("stats %+v, want 500 records written", st)
	}
	got := readAll(t, cfg, 64)
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("records on %d partitions, want 1..3", len(got))
	}
	seen := map[string]bool{}
	keyPart := map[string]string{}
	for shard, recs := range got {
		for i, r := range recs {
			if r.SequenceNumber != strconv.Itoa(i) {
				t.Fatalf("partition %s record %d has offset %s", shard, i, r.SequenceNumber)
			}
			if p, ok := keyPart[r.PartitionKey]; ok && p != shard {
				t.Fatalf("key %s on partitions %s and %s", r.PartitionKey, p, shard)
			}
			keyPart[r.PartitionKey] = shard
			if seen[string(r.Data)] {
				t.Fatalf("record %s read twice", r.Data)
			}
			seen[string(r.Data)] = true
		}
	}
	if len(seen) != 500 {
		t.Fatalf("read %d distinct records, want 500", len(seen))
	}
}

func TestKafkaSourceResumesFromOffset(t *testing.T) {
	c := fakeKafka(t, 1)
	cfg := kafkaCfg(c)
	produceAll(t, cfg, 20)
	src, err := streaming.NewKafkaSource(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	b, err := src.ReadShard(ctx, "0", "", 5)
	if err != nil || len(b.Records) != 5 || b.Records[0].SequenceNumber != "0" {
		t.Fatalf("first read: %d records, %v", len(b.Records), err)
	}
	b, err = src.ReadShard(ctx, "0", "11", 100) // a seek
	if err != nil || len(b.Records) != 8 || b.Records[0].SequenceNumber != "12" {
		t.Fatalf("read after 11: %d records from %v, %v", len(b.Records), b.Records, err)
	}
	b, err = src.ReadShard(ctx, "0", "19", 100)
	if err != nil || len(b.Records) != 0 || b.Closed {
		t.Fatalf("read at the end: %+v, %v", b, err)
	}
	if _, err := src.ReadShard(ctx, "x", "", 1); err == nil {
		t.Fatal("a shard that is no partition number read without error")
	}
}

func TestKafkaSASL(t *testing.T) {
	for _, tc := range []struct {
		name, kfakeMethod, sasl string
	}{
		{"plain", "PLAIN", streaming.SASLPlain},
		{"scram-sha-512", "SCRAM-SHA-512", streaming.SASLScramSHA512},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeKafka(t, 2, kfake.EnableSASL(), kfake.Superuser(tc.kfakeMethod, "producer", "s3cret"))
			cfg := kafkaCfg(c)
			cfg.SASL, cfg.User, cfg.Password = tc.sasl, "producer", "s3cret"
			roundTrip(t, cfg, 50, "")

			cfg.Password = "wrong"
			// Kafka answers SASL_AUTHENTICATION_FAILED (permanent); kfake
			// closes the connection. Either way the sink is not made.
			_, err := streaming.NewKafkaSink(context.Background(), cfg)
			if err == nil || !strings.Contains(err.Error(), "SASL "+tc.sasl) {
				t.Fatalf("a wrong password gave %v, want an error naming SASL %s", err, tc.sasl)
			}
		})
	}
}

// produceExpectingFailure puts records that must not be written and
// returns the Close error, checking that the run stopped quickly.
func produceExpectingFailure(t *testing.T, cfg streaming.KafkaConfig) error {
	t.Helper()
	ctx := context.Background()
	sink, err := streaming.NewKafkaSink(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	var (
		mu   sync.Mutex // OnFailure runs on the sender goroutines
		perm error
	)
	p, err := streaming.NewProducer(ctx, sink, streaming.ProducerConfig{Linger: time.Millisecond,
		OnFailure: func(_ streaming.Record, err error) { mu.Lock(); perm = err; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := range 2000 {
		if err := p.Put(ctx, streaming.Record{PartitionKey: "k", Data: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	err = p.Close(ctx)
	if err == nil {
		t.Fatal("the producer reported success")
	}
	st := p.Stats()
	if st.Records != 0 || st.Failed != 2000 || st.Retries != 0 {
		t.Fatalf("stats %+v: want all 2000 failed with no retry", st)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("giving up took %s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	return perm
}

func TestKafkaPermanentErrors(t *testing.T) {
	t.Run("unknown topic", func(t *testing.T) {
		c := fakeKafka(t, 1)
		cfg := kafkaCfg(c)
		cfg.Topic = "no-such-topic"
		err := produceExpectingFailure(t, cfg)
		if !errors.Is(err, streaming.ErrPermanent) {
			t.Fatalf("got %v, want a permanent error", err)
		}
	})
	t.Run("not authorized", func(t *testing.T) {
		c := fakeKafka(t, 1, kfake.EnableSASL(), kfake.EnableACLs(), kfake.Superuser("PLAIN", "admin", "admin"),
			kfake.User("PLAIN", "reader", "pw"))
		cfg := kafkaCfg(c)
		cfg.SASL, cfg.User, cfg.Password = streaming.SASLPlain, "reader", "pw"
		err := produceExpectingFailure(t, cfg)
		if !errors.Is(err, streaming.ErrPermanent) {
			t.Fatalf("got %v, want a permanent error", err)
		}
	})
}

func TestKafkaGroupReaderCommitsAndResumes(t *testing.T) {
	c := fakeKafka(t, 2)
	cfg := kafkaCfg(c)
	produceAll(t, cfg, 300)
	ctx := context.Background()
	read := func(failAfter int) (int, error) {
		g, err := streaming.NewKafkaGroupReader(ctx, cfg, "speed", kgo.FetchMaxWait(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
		g.MaxRecords = 40
		n := 0
		err = g.CatchUp(ctx, func(_ context.Context, b streaming.KafkaBatch) error {
			if len(b.Records) == 0 || len(b.Records) > 40 {
				t.Errorf("batch of %d records", len(b.Records))
			}
			if failAfter >= 0 && n >= failAfter {
				return errors.New("handler down")
			}
			n += len(b.Records)
			return nil
		})
		return n, err
	}
	first, err := read(100)
	if err == nil || first < 100 || first > 140 {
		t.Fatalf("first reader: %d records, %v; want to stop after ~100 with an error", first, err)
	}
	rest, err := read(-1)
	if err != nil {
		t.Fatal(err)
	}
	if first+rest != 300 {
		t.Fatalf("read %d + %d records, want 300 in all (commits lost or repeated)", first, rest)
	}
}

// A broker that wants SASL closes the connection of a client that has
// none at its first read. Connecting tries that three times (a broken
// connection would pass on a second try) and then fails in one line with
// franz-go's hint; the clients that do the work retry such closes
// (kgo.AlwaysRetryEOF), which TestKafkaFaults in internal/pipeline shows.
func TestKafkaMissingSASLFailsAtStart(t *testing.T) {
	c := fakeKafka(t, 1, kfake.EnableSASL(), kfake.Superuser("PLAIN", "producer", "s3cret"))
	cfg := kafkaCfg(c)
	var tries atomic.Int32
	c.ControlKey(kmsg.ApiVersions.Int16(), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		tries.Add(1)
		return nil, nil, false
	})
	_, err := streaming.NewKafkaSink(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "SASL missing") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("no SASL against a broker that wants it: %v, want one line with the hint", err)
	}
	if n := tries.Load(); n < 3 {
		t.Errorf("%d connections tried, want 3", n)
	}
}
