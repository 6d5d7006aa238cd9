package speed_test

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

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
