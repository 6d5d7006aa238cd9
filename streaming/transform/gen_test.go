package transform_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/lambdastack/lambdastack/streaming"
)

// fhRecord is one record of a Firehose event as the tests write it.
type fhRecord struct {
	RecordID string `json:"recordId"`
	Arrival  int64  `json:"approximateArrivalTimestamp"`
	Data     string `json:"data"`
}

func firehoseEvent(t testing.TB, recs []fhRecord) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"invocationId": "inv-1", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/raw",
		"region": "us-east-1", "records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const arrival = 1795348800000 // 2026-11-22T12:00:00Z

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func validEvent(i int) string {
	return fmt.Sprintf(`{"event_id":"evt-%06d","event_type":"page_view","event_time":"2026-11-22T10:%02d:00Z","user_id":"user-%d","source":"web","value":%d.5,"attributes":{"path":"/p/%d"}}`,
		i, i%60, i%97, i%10, i)
}

// mixedRecords covers every reason code, KPL, bad base64 and escapes.
func mixedRecords() []fhRecord {
	var agg streaming.Aggregator
	agg.Add(streaming.Record{PartitionKey: "user-1", Data: []byte(validEvent(1))})
	agg.Add(streaming.Record{PartitionKey: "user-2", Data: []byte(validEvent(2))})
	recs := []fhRecord{
		{"r-valid", arrival, b64(validEvent(0))},
		{"r-invalid-json", arrival, b64(`{"event_id":`)},
		{"r-not-utf8", arrival, base64.StdEncoding.EncodeToString([]byte("{\"event_id\":\"\xff\"}"))},
		{"r-too-large", arrival, b64(`{"event_id":"` + strings.Repeat("x", 33<<10) + `"}`)},
		{"r-missing", arrival, b64(`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z"}`)},
		{"r-bad-type", arrival, b64(`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":7}`)},
		{"r-bad-value", arrival, b64(`{"event_id":"e","event_type":"Page View","event_time":"2026-11-22T10:00:00Z","user_id":"u"}`)},
		{"r-future", arrival, b64(`{"event_id":"e","event_type":"a","event_time":"2026-11-23T10:00:00Z","user_id":"u"}`)},
		{"r-kpl", arrival, base64.StdEncoding.EncodeToString(agg.Bytes())},
		{"r-bad-base64", arrival, "not base64!"},
		{"r-\"quoted\"", 0, b64(validEvent(3))},
	}
	return recs
}

// event300 is a valid event of about 300 bytes.
func event300(i int) string {
	return fmt.Sprintf(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-%012d","event_type":"page_view","event_time":"2026-11-22T10:59:59.999Z",`+
		`"user_id":"user-%06d","session_id":"sess-%06d","source":"web","value":12.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`, i, i%1000, i%300)
}
