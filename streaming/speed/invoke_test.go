package speed_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming/speed"
)

func decodeStd(t testing.TB, payload []byte) (events.KinesisEvent, error) {
	t.Helper()
	var ev events.KinesisEvent
	err := json.Unmarshal(payload, &ev)
	return ev, err
}

func TestParseKinesisEventMatchesEncodingJSON(t *testing.T) {
	sample, err := os.ReadFile("testdata/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	gen := kinesisEvent("shardId-000000000003", 7,
		ev{id: "a", typ: "view", user: "u1", at: hour10}.json(), []byte{}, []byte{0, 1, 2, 0xff},
		ev{id: "b", typ: "view", user: "u2", at: hour11, value: 2.5}.json())
	genJSON, _ := json.Marshal(gen)
	genIndent, _ := json.MarshalIndent(gen, "", "\t")
	rec := `{"eventID":"shardId-000000000000:1","eventSourceARN":"arn:aws:kinesis:us-east-1:1:stream\/s","kinesis":` +
		`{"sequenceNumber":"1","partitionKey":"p\u00e9","data":"eyJhIjoxfQ==","approximateArrivalTimestamp":1763805600.123,` +
		`"unknown":{"x":[1,2,{"y":null}],"z":"w"}},"extra":[true,false,null,-1.5e3]}`
	for name, payload := range map[string]string{
		"aws sample":        string(sample),
		"generated":         string(genJSON),
		"indented":          string(genIndent),
		"escapes, unknowns": `{"Records":[` + rec + `]}`,
		"lowercase key":     `{"records":[` + rec + `,` + rec + `]}`,
		"nulls": `{"Records":[null,{"eventID":null,"kinesis":{"data":null,"sequenceNumber":null,` +
			`"approximateArrivalTimestamp":null}},{"kinesis":null}]}`,
		"no records":    `{}`,
		"null records":  `{"Records":null}`,
		"empty records": ` {"Records":[]} `,
		"null event":    `null`,
		"empty data":    `{"Records":[{"kinesis":{"data":""}}]}`,
		"escaped data":  `{"Records":[{"kinesis":{"data":"P\/8\u0041\n"}},{"KINESIS":{"DATA":"P/8A"}}]}`,
		"invalid utf8":  "{\"Records\":[{\"eventID\":\"s\xff:1\"}]}",
		// Keys are matched by the order the last record had them in first.
		"key orders": `{"Records":[{"eventID":"s:1","kinesis":{"sequenceNumber":"1","data":"AA=="}},` +
			`{"kinesis":{"data":"AQ==","sequenceNumber":"2"},"eventID":"s:2"},` +
			`{ "eventID" : "s:3" , "Kinesis":{"SequenceNumber":"3","d\u0061ta":"Ag=="}},{"eventID":"s:4","eventid":"s:5"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			want, err := decodeStd(t, []byte(payload))
			if err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			got, err := speed.ParseKinesisEvent([]byte(payload))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestParseKinesisEventRejectsWhatEncodingJSONRejects(t *testing.T) {
	for name, payload := range map[string]string{
		"empty":          ``,
		"truncated":      `{"Records":[{"kinesis":{"data":"eyJ`,
		"not base64":     `{"Records":[{"kinesis":{"data":"***"}}]}`,
		"data a number":  `{"Records":[{"kinesis":{"data":5}}]}`,
		"records object": `{"Records":{}}`,
		"time a string":  `{"Records":[{"kinesis":{"approximateArrivalTimestamp":"1"}}]}`,
		"trailing":       `{"Records":[]} x`,
		"bad number":     `{"Records":[{"kinesis":{"approximateArrivalTimestamp":1.}}]}`,
		"missing colon":  `{"Records" []}`,
		"raw line break": "{\"Records\":[{\"kinesis\":{\"data\":\"P/8A\n\"}}]}",
		// Four line breaks keep the length a multiple of four; the decoder
		// alone would skip them.
		"raw line breaks": "{\"Records\":[{\"kinesis\":{\"data\":\"AAAA\n\n\r\nBBBB\"}}]}",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeStd(t, []byte(payload)); err == nil {
				t.Fatalf("encoding/json accepts %q", payload)
			}
			if _, err := speed.ParseKinesisEvent([]byte(payload)); err == nil {
				t.Fatalf("accepted %q", payload)
			}
		})
	}
}

// FuzzParseKinesisEvent: no input panics, and what is accepted is JSON.
// (Exact agreement with encoding/json is checked on realistic payloads
// above; it differs on pathological ones, such as repeated keys.)
func FuzzParseKinesisEvent(f *testing.F) {
	sample, _ := os.ReadFile("testdata/kinesis-event.json")
	f.Add(sample)
	f.Add([]byte(`{"Records":[null,{"kinesis":{"data":"","approximateArrivalTimestamp":1e3}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := speed.ParseKinesisEvent(data); err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

func TestInvoke(t *testing.T) {
	h, st := newHandler(t)
	payload, _ := json.Marshal(kinesisEvent("shardId-000000000000", 1,
		ev{id: "a", typ: "view", user: "u1", at: hour10}.json(), ev{id: "b", typ: "view", user: "u1", at: hour11}.json()))
	out, err := h.Invoke(context.Background(), payload)
	if err != nil || string(out) != `{"batchItemFailures":[]}` {
		t.Fatalf("got %s, %v", out, err)
	}
	if tbl, _ := readView(t, st); len(tbl) != 2 {
		t.Fatalf("%d rows written, want 2", len(tbl))
	}
	h.Store = &failingStore{Store: st, fail: "hour=11"}
	out, err = h.Invoke(context.Background(), payload)
	want := `{"batchItemFailures":[{"itemIdentifier":"` + strings.Repeat("0", 55) + `2"}]}`
	if err != nil || string(out) != want {
		t.Fatalf("got %s, %v; want %s", out, err, want)
	}
	if _, err := h.Invoke(context.Background(), []byte(`{"Records":`)); err == nil {
		t.Fatal("a payload that is not a Kinesis event: want an error")
	}
}

// TestInvokeMatchesTheTypedPath holds Invoke, which reads the event into
// raw records and never builds the typed event, to ParseEvent followed by
// Process or ProcessKafka: the same response, metrics and objects, for
// every kind of record the handler skips, several shards and partitions,
// escapes, nulls, repeated keys and write failures.
func TestInvokeMatchesTheTypedPath(t *testing.T) {
	good := func(id string, at time.Time) []byte {
		return ev{id: id, typ: "view", user: "u1", at: at, value: 1.5}.json()
	}
	two := kinesisEvent("shardId-000000000000", 1, good("a", hour10), good("b", hour11), []byte(`{"bad"`), good("a", hour10))
	other := kinesisEvent("shardId-000000000001", 100, good("c", hour10), nil, good("d", hour11))
	two.Records = append(two.Records, other.Records...)
	two.Records = append(two.Records, two.Records[0], other.Records[2])
	two.Records[1].EventID = "no-colon"
	kinJSON, _ := json.Marshal(two)
	sample, err := os.ReadFile("testdata/kinesis-event.json")
	if err != nil {
		t.Fatal(err)
	}
	kafkaSample, err := os.ReadFile("testdata/kafka-event.json")
	if err != nil {
		t.Fatal(err)
	}
	data := base64.StdEncoding.EncodeToString(good("e", hour10))
	rec := func(seq string) string {
		return `{"eventID":"shardId-000000000002:` + seq + `","eventSource":"aws:kinesis","kinesis":{"sequenceNumber":"` + seq +
			`","data":"` + data + `","approximateArrivalTimestamp":1795347000.5}}`
	}
	kafkaRec := func(topic string, part, off int) string {
		return fmt.Sprintf(`{"topic":%q,"partition":%d,"offset":%d,"timestamp":1795347000000,"key":"dTE=","value":"%s"}`, topic, part, off, data)
	}
	payloads := map[string]string{
		"kinesis, two shards": string(kinJSON),
		"aws sample":          string(sample),
		"escapes":             `{"Records":[` + strings.Replace(rec("7"), `"sequenceNumber":"7"`, `"sequenceNumber":"\u0037"`, 1) + `]}`,
		"repeated fields":     `{"Records":[` + strings.Replace(rec("8"), `"kinesis":{`, `"kinesis":{"sequenceNumber":"x/y","data":"AAAA",`, 1) + `]}`,
		"repeated records":    `{"Records":[` + rec("1") + `],"records":[` + rec("2") + `,` + rec("3") + `]}`,
		"null fields": `{"Records":[null,{"eventID":null,"kinesis":null},` +
			strings.Replace(rec("9"), `"approximateArrivalTimestamp":1795347000.5`, `"approximateArrivalTimestamp":null`, 1) + `]}`,
		"kafka sample": string(kafkaSample),
		"kafka, partitions": `{"eventSource":"aws:kafka","records":{"events-1":[` + kafkaRec("events", 1, 5) + `,` + kafkaRec("events", 1, 6) +
			`],"events-0":[` + kafkaRec("events", 0, 9) + `,` + kafkaRec("", 0, 10) + `,` + kafkaRec("events", 0, -1) + `,` +
			kafkaRec("bad/topic", 0, 1) + `,{"topic":"events","partition":0,"offset":11,"value":null}]}}`,
		"kafka, sorted partitions": `{"eventSource":"aws:kafka","records":{"a-0":null,"events-0":[` + kafkaRec("events", 0, 9) + `,` +
			kafkaRec("events", 1, 3) + `],"events-1":[` + kafkaRec("events", 1, 4) + `,` + kafkaRec("events", 0, 10) + `]}}`,
		"kafka, repeated key": `{"eventSource":"aws:SelfManagedKafka","records":{"events-0":[` + kafkaRec("events", 0, 1) +
			`],"events-0":[` + kafkaRec("events", 0, 2) + `],"x-1":null}}`,
	}
	// AWS's samples are not our events; the null arrival time is the
	// epoch, before the events.
	noObjects := map[string]bool{"aws sample": true, "kafka sample": true, "null fields": true}
	for name, payload := range payloads {
		for _, fail := range []string{"", "hour=11"} {
			t.Run(name+"/fail "+fail, func(t *testing.T) {
				var typedMetrics, rawMetrics bytes.Buffer
				typed, typedStore := newHandler(t)
				raw, rawStore := newHandler(t)
				typed.Metrics, typed.Stage, raw.Metrics, raw.Stage = &typedMetrics, "test", &rawMetrics, "test"
				typed.Store = &failingStore{Store: typedStore, fail: fail}
				raw.Store = &failingStore{Store: rawStore, fail: fail}
				kin, kaf, err := speed.ParseEvent([]byte(payload))
				if err != nil {
					t.Fatal(err)
				}
				var want []byte
				if kaf != nil {
					want, _ = json.Marshal(speed.KafkaEventResponse{BatchItemFailures: nonNilSlice(typed.ProcessKafka(context.Background(), *kaf).KafkaFailures)})
				} else {
					want, _ = json.Marshal(events.KinesisEventResponse{BatchItemFailures: nonNilSlice(typed.Process(context.Background(), *kin).Failures)})
				}
				// Twice: the second reuses the first one's buffers.
				for range 2 {
					rawMetrics.Reset()
					got, err := raw.Invoke(context.Background(), []byte(payload))
					if err != nil || string(got) != string(want) {
						t.Fatalf("Invoke: %s, %v; the typed path: %s", got, err, want)
					}
				}
				if rawMetrics.String() != typedMetrics.String() {
					t.Fatalf("metrics\n%s\nthe typed path's\n%s", &rawMetrics, &typedMetrics)
				}
				if got, want := snapshot(t, rawStore), snapshot(t, typedStore); !reflect.DeepEqual(got, want) || len(want) == 0 && fail == "" && !noObjects[name] {
					t.Fatalf("objects %v, the typed path's %v", keysOf(got), keysOf(want))
				}
			})
		}
	}
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func keysOf(m map[string][]byte) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FuzzInvokeMatchesTheTypedPath: Invoke fails exactly when ParseEvent does,
// and otherwise answers as Process or ProcessKafka does on the typed event.
func FuzzInvokeMatchesTheTypedPath(f *testing.F) {
	sample, _ := os.ReadFile("testdata/kinesis-event.json")
	kafkaSample, _ := os.ReadFile("testdata/kafka-event.json")
	f.Add(sample)
	f.Add(kafkaSample)
	f.Add([]byte(`{"Records":[{"eventID":"s:1","kinesis":{"sequenceNumber":"1","data":"e30=","approximateArrivalTimestamp":1.5}},null]}`))
	f.Add([]byte(`{"eventSource":"aws:kafka","records":{"b-0":[{"topic":"b","offset":1,"value":"e30="}],"a-0":null}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		h, _ := newHandler(t)
		got, err := h.Invoke(context.Background(), payload)
		kin, kaf, perr := speed.ParseEvent(payload)
		if (err == nil) != (perr == nil) || err != nil && err.Error() != perr.Error() {
			t.Fatalf("%q: Invoke %v, ParseEvent %v", payload, err, perr)
		}
		if err != nil {
			return
		}
		typed, _ := newHandler(t)
		var want []byte
		if kaf != nil {
			want, _ = json.Marshal(speed.KafkaEventResponse{BatchItemFailures: nonNilSlice(typed.ProcessKafka(context.Background(), *kaf).KafkaFailures)})
		} else {
			want, _ = json.Marshal(events.KinesisEventResponse{BatchItemFailures: nonNilSlice(typed.Process(context.Background(), *kin).Failures)})
		}
		if string(got) != string(want) {
			t.Fatalf("%q: Invoke %s, the typed path %s", payload, got, want)
		}
	})
}
