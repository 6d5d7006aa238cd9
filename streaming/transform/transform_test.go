package transform_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var clock = func() time.Time { return time.Date(2026, 11, 22, 12, 30, 0, 0, time.UTC) }

// describe renders a response for people: one block per record with the
// decoded data.
func describe(t *testing.T, resp []byte) []byte {
	t.Helper()
	var r events.KinesisFirehoseResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatalf("the response is not a Firehose response: %v\n%s", err, resp)
	}
	var b bytes.Buffer
	for _, rec := range r.Records {
		fmt.Fprintf(&b, "%s %s route=%s dt=%s hour=%s\n%s\n", rec.RecordID, rec.Result,
			rec.Metadata.PartitionKeys["route"], rec.Metadata.PartitionKeys["dt"], rec.Metadata.PartitionKeys["hour"], rec.Data)
	}
	return b.Bytes()
}

// TestGolden runs every testdata/*.json event through Invoke and compares
// the decoded response with the .golden file beside it.
func TestGolden(t *testing.T) {
	mixed := firehoseEvent(t, mixedRecords())
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "mixed.json"), mixed, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	if len(inputs) < 2 {
		t.Fatalf("want the AWS sample and the mixed event in testdata, have %v", inputs)
	}
	h := &transform.Handler{Now: clock}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".json")
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := h.Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			got := describe(t, resp)
			golden := strings.TrimSuffix(in, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
			// The typed handler agrees with Invoke record for record.
			var ev events.KinesisFirehoseEvent
			if err := json.Unmarshal(payload, &ev); err == nil {
				typed, err := h.Handle(context.Background(), ev)
				if err != nil {
					t.Fatal(err)
				}
				tb, _ := json.Marshal(typed)
				if !bytes.Equal(describe(t, tb), got) {
					t.Errorf("Handle and Invoke differ:\n%s\n%s", describe(t, tb), got)
				}
			}
		})
	}
}

// TestEveryRecordOnce checks recordIds come back once each, in order, and
// that rejected records are kept with their reason.
func TestEveryRecordOnce(t *testing.T) {
	recs := mixedRecords()
	resp, err := (&transform.Handler{Now: clock}).Invoke(context.Background(), firehoseEvent(t, recs))
	if err != nil {
		t.Fatal(err)
	}
	var r events.KinesisFirehoseResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != len(recs) {
		t.Fatalf("%d records in, %d out", len(recs), len(r.Records))
	}
	wantRoute := map[string]string{"r-valid": "events", "r-invalid-json": "errors/invalid_json", "r-not-utf8": "errors/not_utf8",
		"r-too-large": "errors/too_large", "r-missing": "errors/missing_field", "r-bad-type": "errors/bad_type",
		"r-bad-value": "errors/bad_value", "r-future": "errors/future_time", "r-kpl": "events", `r-"quoted"`: "events"}
	for i, out := range r.Records {
		if out.RecordID != recs[i].RecordID {
			t.Fatalf("record %d: id %q, want %q", i, out.RecordID, recs[i].RecordID)
		}
		if out.RecordID == "r-bad-base64" {
			if out.Result != "ProcessingFailed" {
				t.Errorf("bad base64: %s", out.Result)
			}
			continue
		}
		if out.Result != "Ok" || out.Metadata.PartitionKeys["route"] != wantRoute[out.RecordID] {
			t.Errorf("%s: %s route %q, want Ok %q", out.RecordID, out.Result, out.Metadata.PartitionKeys["route"], wantRoute[out.RecordID])
		}
		if strings.HasPrefix(wantRoute[out.RecordID], "errors/") {
			var env transform.Envelope
			if err := json.Unmarshal(out.Data, &env); err != nil || "errors/"+env.Reason != wantRoute[out.RecordID] || env.Detail == "" ||
				(env.Record == nil && env.RecordBase64 == "") || env.ReceivedTime != "2026-11-22T12:00:00.000Z" {
				t.Errorf("%s: envelope %s (%v)", out.RecordID, out.Data, err)
			}
		}
	}
	// The KPL record carried two events: two lines.
	for _, out := range r.Records {
		if out.RecordID == "r-kpl" && bytes.Count(out.Data, []byte("\n")) != 2 {
			t.Errorf("KPL record: %q", out.Data)
		}
	}
}

func TestMalformedEvent(t *testing.T) {
	h := &transform.Handler{Now: clock}
	for _, p := range []string{``, `[]`, `{"records":[{"recordId":"a","data":"e30="}`, `{"records":[{"data":"e30="}]}`, `{"invocationId":"x"}`, `{"records":[1]}`} {
		if _, err := h.Invoke(context.Background(), []byte(p)); err == nil {
			t.Errorf("%q: no error", p)
		}
	}
	out, err := h.Invoke(context.Background(), []byte(`{"records":[]}`))
	if err != nil || string(out) != `{"records":[]}` {
		t.Errorf("empty records: %s %v", out, err)
	}
}

// TestResponseLimitAtTheEdge fills Firehose processor buffers to the edge
// (data up to the buffer size, request up to Lambda's 6 MB) with the
// records that grow most (tiny rejected ones, whose envelope is far larger
// than they are), with typical and with maximum-size valid events, and
// checks every response stays under the limit and names every recordId
// once, in order. With a 3 MB buffer of small events the enriched output
// cannot all fit: the tail comes back ProcessingFailed (Firehose keeps those
// records as they were). With a 2 MB buffer of 300-byte events everything
// is Ok.
func TestResponseLimitAtTheEdge(t *testing.T) {
	const lambdaLimit = 6 << 20
	big := validEvent(1)
	big = big[:len(big)-1] + `,"pad":"` + strings.Repeat("p", 32<<10-len(big)-10) + `"}`
	cases := []struct {
		name   string
		buffer int
		gen    func(i int) string
		allOk  bool
	}{
		{"3MB tiny rejected", 3 << 20, func(i int) string { return "x" }, false},
		{"3MB max valid", 3 << 20, func(i int) string { return big }, true},
		{"3MB typical valid", 3 << 20, validEvent, false},
		{"2MB 300-byte valid", 2 << 20, event300, true},
		{"2MB tiny rejected", 2 << 20, func(i int) string { return "{}" }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var recs []fhRecord
			size, request := 0, 200
			for i := 0; ; i++ {
				r := fhRecord{RecordID: fmt.Sprintf("%056d", i), Arrival: arrival, Data: b64(tc.gen(i))}
				rb, _ := json.Marshal(r)
				if size+len(tc.gen(i)) > tc.buffer || request+len(rb)+1 > lambdaLimit {
					break
				}
				size += len(tc.gen(i))
				request += len(rb) + 1
				recs = append(recs, r)
			}
			payload := firehoseEvent(t, recs)
			if len(payload) > lambdaLimit {
				t.Fatalf("test payload %d bytes is over the request limit", len(payload))
			}
			resp, err := (&transform.Handler{Now: clock}).Invoke(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp) > transform.DefaultMaxResponseBytes {
				t.Fatalf("response %d bytes, over %d", len(resp), transform.DefaultMaxResponseBytes)
			}
			var r events.KinesisFirehoseResponse
			if err := json.Unmarshal(resp, &r); err != nil || len(r.Records) != len(recs) {
				t.Fatalf("%d records in, %d out (%v)", len(recs), len(r.Records), err)
			}
			ok := 0
			for i, out := range r.Records {
				if out.RecordID != recs[i].RecordID {
					t.Fatalf("record %d: id %s", i, out.RecordID)
				}
				if out.Result == "Ok" {
					ok++
				}
			}
			t.Logf("%d records, payload %d bytes, response %d bytes, %d Ok", len(recs), len(payload), len(resp), ok)
			if tc.allOk && ok != len(recs) {
				t.Fatalf("%d of %d Ok, want all", ok, len(recs))
			}
		})
	}
}

func TestEnvelopeKeepsNonUTF8AsBase64(t *testing.T) {
	resp, err := (&transform.Handler{Now: clock}).Invoke(context.Background(),
		firehoseEvent(t, []fhRecord{{"a", arrival, base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe})}}))
	if err != nil {
		t.Fatal(err)
	}
	var r events.KinesisFirehoseResponse
	_ = json.Unmarshal(resp, &r)
	var env transform.Envelope
	if err := json.Unmarshal(r.Records[0].Data, &env); err != nil || env.RecordBase64 != "//4=" || env.Record != nil {
		t.Fatalf("envelope %s", r.Records[0].Data)
	}
}
