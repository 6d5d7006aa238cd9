package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// kafkaSpeedEvent is a Kafka event of n events on partition 0 of topic
// events, offsets from 10, and a tombstone after them.
func kafkaSpeedEvent(n int) string {
	var recs []string
	for i := range n {
		data := fmt.Sprintf(`{"event_id":"k%d","event_type":"view","event_time":"2026-11-22T09:%02d:00Z","user_id":"u%d","source":"web","value":%d}`, i, i, i%3, i)
		recs = append(recs, fmt.Sprintf(`{"topic":"events","partition":0,"offset":%d,"timestamp":1795338000000,"timestampType":"CREATE_TIME","key":"dTE=","value":%q,"headers":[]}`,
			10+i, base64.StdEncoding.EncodeToString([]byte(data))))
	}
	recs = append(recs, fmt.Sprintf(`{"topic":"events","partition":0,"offset":%d,"timestamp":1795338000000,"value":null}`, 10+n))
	return `{"eventSource":"aws:kafka","eventSourceArn":"arn:aws:kafka:us-east-1:000000000000:cluster/c/x","records":{"events-0":[` + strings.Join(recs, ",") + `]}}`
}

func TestSpeedCommandTakesKafkaEvents(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "kafka.json")
	if err := os.WriteFile(file, []byte(kafkaSpeedEvent(5)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "speed", "--event", file, "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "6 records (6 user records): 5 events, 0 duplicates, 1 invalid (tombstone 1)") ||
		!strings.Contains(out, "speed/dt=2026-11-22/hour=09/events-0-10-15.parquet") {
		t.Fatalf("output:\n%s", out)
	}

	bad := filepath.Join(dir, "sqs.json")
	if err := os.WriteFile(bad, []byte(`{"Records":[{"eventSource":"aws:sqs","body":"{}"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "", "speed", "--event", bad, "--out", dir)
	if code != 1 || !strings.Contains(errOut, `eventSource "aws:sqs"`) || !strings.Contains(errOut, "want a Kinesis event") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestTransformCommandTakesMSKEvents(t *testing.T) {
	value := base64.StdEncoding.EncodeToString([]byte(`{"event_id":"e","event_type":"a","event_time":"2026-01-01T00:00:00Z","user_id":"u"}`))
	ev := `{"invocationId":"i","sourceMSKArn":"arn:aws:kafka:us-east-1:000000000000:cluster/c/x","records":[` +
		`{"recordId":"a","approximateArrivalTimestamp":1767225600000,"kafkaRecordValue":"` + value + `","mskRecordMetadata":{"offset":"0","partitionId":"0"}},` +
		`{"recordId":"b","approximateArrivalTimestamp":1767225600000,"kafkaRecordValue":null,"mskRecordMetadata":{"offset":"1","partitionId":"0"}}]}`
	code, out, errOut := runCLI(t, ev, "transform")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"recordId":"a","result":"Ok","kafkaRecordValue":`) || !strings.Contains(out, `"route":"events"`) ||
		!strings.Contains(out, `"route":"errors/tombstone"`) || strings.Contains(out, `"data"`) {
		t.Fatalf("response %s", out)
	}
}
