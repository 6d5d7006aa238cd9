package speed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// kafkaEvent builds the event a Kafka mapping sends for payloads on one
// partition of topic events, offsets from offset on. A nil payload is a
// tombstone.
func kafkaEvent(t testing.TB, source string, partition, offset int, payloads ...[]byte) []byte {
	t.Helper()
	ev := speed.KafkaEvent{EventSource: source, Records: map[string][]speed.KafkaRecord{}}
	tp := fmt.Sprintf("events-%d", partition)
	for i, p := range payloads {
		ev.Records[tp] = append(ev.Records[tp], speed.KafkaRecord{Topic: "events", Partition: int64(partition), Offset: int64(offset + i),
			Timestamp: arrival.UnixMilli(), TimestampType: "CREATE_TIME", Key: []byte("u1"), Value: p,
			Headers: []speed.KafkaHeader{{Key: "h", Value: []byte{0xff, 0, 'x'}}}})
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestParseKafkaEventMatchesEncodingJSON holds the scanner to encoding/json
// decoding into aws-lambda-go's events.KafkaEvent, on AWS's sample and on
// an event of our own, and to the JSON encoding of speed.KafkaEvent.
func TestParseKafkaEventMatchesEncodingJSON(t *testing.T) {
	sample, err := os.ReadFile("testdata/kafka-event.json")
	if err != nil {
		t.Fatal(err)
	}
	ours := kafkaEvent(t, speed.SourceSelfManagedKafka, 3, 41, ev{id: "a", typ: "view", user: "u1", at: hour10}.json(), []byte{})
	for name, payload := range map[string][]byte{"aws sample": sample, "ours": ours} {
		t.Run(name, func(t *testing.T) {
			var std events.KafkaEvent
			if err := json.Unmarshal(payload, &std); err != nil {
				t.Fatal(err)
			}
			got, err := speed.ParseKafkaEvent(payload)
			if err != nil {
				t.Fatal(err)
			}
			if got.EventSource != std.EventSource || got.EventSourceARN != std.EventSourceARN || got.BootstrapServers != std.BootstrapServers ||
				len(got.Records) != len(std.Records) {
				t.Fatalf("event %+v, encoding/json %+v", got, std)
			}
			for tp, recs := range std.Records {
				if len(got.Records[tp]) != len(recs) {
					t.Fatalf("%s: %d records, want %d", tp, len(got.Records[tp]), len(recs))
				}
				for i, r := range recs {
					g := got.Records[tp][i]
					if g.Topic != r.Topic || g.Partition != r.Partition || g.Offset != r.Offset || g.Timestamp != r.Timestamp.UnixMilli() ||
						g.TimestampType != r.TimestampType || b64(g.Key) != r.Key || b64(g.Value) != r.Value || len(g.Headers) != len(r.Headers) {
						t.Fatalf("%s[%d] = %+v, encoding/json %+v", tp, i, g, r)
					}
					for j, h := range r.Headers {
						for k, v := range h {
							if g.Headers[j].Key != k || !bytes.Equal(g.Headers[j].Value, v) {
								t.Fatalf("header %d = %+v, want %s %v", j, g.Headers[j], k, []byte(v))
							}
						}
					}
				}
			}
			again, err := json.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			back, err := speed.ParseKafkaEvent(again)
			if err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("round trip: %v\n%+v\n%+v", err, back, got)
			}
		})
	}
}

func b64(b []byte) string {
	if b == nil {
		return ""
	}
	out, _ := json.Marshal(b)
	return strings.Trim(string(out), `"`)
}

func TestInvokeKafka(t *testing.T) {
	for _, source := range []string{speed.SourceMSK, speed.SourceSelfManagedKafka} {
		t.Run(source, func(t *testing.T) {
			h, st := newHandler(t)
			payloads := [][]byte{
				ev{id: "a", typ: "view", user: "u1", at: hour10, value: 1}.json(),
				nil, // a tombstone
				[]byte(`not json`),
				ev{id: "b", typ: "view", user: "u1", at: hour11, value: 2}.json(),
				ev{id: "a", typ: "view", user: "u1", at: hour10, value: 1}.json(), // a duplicate
			}
			payload := kafkaEvent(t, source, 2, 40, payloads...)
			res := h.ProcessKafka(context.Background(), mustParseKafka(t, payload))
			if res.Records != 5 || res.Events != 2 || res.Duplicates != 1 || res.Invalid[string(event.ReasonTombstone)] != 1 ||
				res.Invalid[string(event.ReasonInvalidJSON)] != 1 {
				t.Fatalf("result %+v", res)
			}
			var keys []string
			for _, o := range res.Objects {
				keys = append(keys, o.Key)
			}
			sort.Strings(keys)
			want := []string{"speed/dt=2026-11-22/hour=10/events-2-40-44.parquet", "speed/dt=2026-11-22/hour=11/events-2-40-44.parquet"}
			if !reflect.DeepEqual(keys, want) {
				t.Fatalf("objects %v, want %v", keys, want)
			}
			before := snapshot(t, st)
			// A redelivered batch rewrites the same objects: counts stay exact.
			for range 2 {
				out, err := h.Invoke(context.Background(), payload)
				if err != nil || string(out) != `{"batchItemFailures":[]}` {
					t.Fatalf("got %s, %v", out, err)
				}
			}
			if after := snapshot(t, st); !reflect.DeepEqual(before, after) {
				t.Fatal("a redelivered batch changed the objects")
			}
			tbl, _ := readView(t, st)
			if n, sum := totals(tbl); n != 2 || sum != 3 {
				t.Fatalf("%d events, value_sum %g after redelivery; want 2 and 3", n, sum)
			}

			// A failed write is answered in Kafka's form, from the first
			// record of the hour not written.
			h.Store = &failingStore{Store: st, fail: "hour=11"}
			out, err := h.Invoke(context.Background(), payload)
			if wantOut := `{"batchItemFailures":[{"itemIdentifier":{"partition":"events-2","offset":43}}]}`; err != nil || string(out) != wantOut {
				t.Fatalf("got %s, %v; want %s", out, err, wantOut)
			}
		})
	}
}

func mustParseKafka(t *testing.T, payload []byte) speed.KafkaEvent {
	t.Helper()
	ev, err := speed.ParseKafkaEvent(payload)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestInvokeRejectsWhatIsNeitherEvent(t *testing.T) {
	h, _ := newHandler(t)
	for name, payload := range map[string]string{
		"no records":           `{"eventSource":"aws:kafka"}`,
		"sqs":                  `{"Records":[{"eventSource":"aws:sqs","body":"x"}]}`,
		"kafka map, no source": `{"records":{"t-0":[]}}`,
		"kafka map, sqs":       `{"eventSource":"aws:sqs","records":{"t-0":[]}}`,
		"kinesis with source":  `{"eventSource":"aws:kafka","Records":[]}`,
		"array":                `[]`,
		"bad value":            `{"eventSource":"aws:kafka","records":{"t-0":[{"topic":"t","value":"%%%"}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := h.Invoke(context.Background(), []byte(payload))
			if err == nil || !strings.Contains(err.Error(), "want a Kinesis event") {
				t.Fatalf("got %v, want an error saying what is expected", err)
			}
		})
	}
}
