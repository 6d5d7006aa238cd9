package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/streaming"
)

// kafkaCluster starts an in-process Kafka cluster with topic "events".
func kafkaCluster(t *testing.T, partitions int32, opts ...kfake.Opt) *kfake.Cluster {
	return testenv.Kafka(t, "events", partitions, opts...)
}

// eventLines writes n events of users user-0..user-6 to a file.
func eventLines(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"event_id":"e%d","event_type":"view","event_time":"2026-01-01T00:00:00Z","user_id":"user-%d"}`+"\n", i, i%7)
	}
	p := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// readTopic reads every record of the topic back, per partition.
func readTopic(t *testing.T, cfg streaming.KafkaConfig) map[string][]streaming.StreamRecord {
	t.Helper()
	src, err := streaming.NewKafkaSource(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := map[string][]streaming.StreamRecord{}
	var cp streaming.Checkpoint
	rd := &streaming.Reader{Source: src}
	if err := rd.CatchUp(context.Background(), &cp, func(_ context.Context, b streaming.Batch) error {
		got[b.ShardID] = append(got[b.ShardID], b.Records...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestProduceKafka(t *testing.T) {
	c := kafkaCluster(t, 3, kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "app", "pw"))
	file := eventLines(t, 700)
	brokers := strings.Join(c.ListenAddrs(), ",")
	t.Setenv("KAFKA_SASL_PASSWORD", "pw")
	code, out, errOut := runCLI(t, "", "produce", "--brokers", brokers, "--topic", "events", "--sasl", "scram-sha-512", "--sasl-user", "app", "--file", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "produced 700 of 700 events to Kafka topic events") || !strings.Contains(out, "0 failed") {
		t.Fatalf("summary %q", out)
	}
	// Key = user_id: each user on one partition, in its input order.
	got := readTopic(t, streaming.KafkaConfig{Brokers: c.ListenAddrs(), Topic: "events", SASL: streaming.SASLScramSHA512, User: "app", Password: "pw"})
	n := 0
	for part, recs := range got {
		for _, r := range recs {
			if !strings.Contains(string(r.Data), `"user_id":"`+r.PartitionKey+`"`) {
				t.Fatalf("partition %s: key %q on record %s", part, r.PartitionKey, r.Data)
			}
		}
		n += len(recs)
	}
	if n != 700 {
		t.Fatalf("read back %d records, want 700", n)
	}
}

func TestProduceKafkaStopsOnPermanentError(t *testing.T) {
	c := kafkaCluster(t, 1)
	file := eventLines(t, 5000)
	code, _, errOut := runCLI(t, "", "produce", "--brokers", strings.Join(c.ListenAddrs(), ","), "--topic", "missing", "--file", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	if lines := strings.Count(strings.TrimSpace(errOut), "\n") + 1; lines != 1 || !strings.Contains(errOut, "UNKNOWN_TOPIC_OR_PARTITION") ||
		!strings.Contains(errOut, "stopped after") {
		t.Fatalf("stderr has %d lines, want one naming the unknown topic:\n%s", lines, errOut)
	}
}

func TestProduceUsage(t *testing.T) {
	for _, args := range [][]string{
		{"produce"},
		{"produce", "--stream", "s", "--topic", "t"},
		{"produce", "--brokers", "localhost:9092"},
		{"produce", "--brokers", "localhost:9092", "--topic", "t", "--aggregate"},
		{"produce", "--brokers", "localhost:9092", "--topic", "t", "--sasl", "kerberos"},
		{"produce", "--brokers", "localhost:9092", "--topic", "t", "--sasl", "plain"},
	} {
		t.Setenv("KAFKA_SASL_USER", "")
		if code, _, errOut := runCLI(t, "", args...); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
}
