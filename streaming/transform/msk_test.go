package transform_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

// TestMSKSource runs the same records through Invoke from a Kinesis source
// (data) and from an MSK source (kafkaRecordValue): the same verdicts,
// lines and partition keys, answered in the field the event used; a
// tombstone is kept under errors/tombstone.
func TestMSKSource(t *testing.T) {
	const arrivalMs = 1795338000000
	values := [][]byte{
		[]byte(`{"event_id":"a","event_type":"view","event_time":"2026-11-22T09:00:00Z","user_id":"u1","value":2}`),
		[]byte(`not json`),
		[]byte(`{"event_id":"b","event_type":"view","user_id":"u1"}`),
	}
	msk := transform.MSKEvent{InvocationID: "i", DeliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/d",
		SourceMSKArn: "arn:aws:kafka:us-east-1:000000000000:cluster/c/x", Region: "us-east-1"}
	kin := events.KinesisFirehoseEvent{InvocationID: "i"}
	for i, v := range values {
		id := string(rune('a' + i))
		msk.Records = append(msk.Records, transform.MSKRecord{RecordID: id, ApproximateArrivalTimestamp: arrivalMs, KafkaRecordValue: v,
			MSKRecordMetadata: transform.MSKRecordMetadata{Offset: "7", PartitionID: "1", ApproximateArrivalTimestamp: arrivalMs}})
		kin.Records = append(kin.Records, events.KinesisFirehoseEventRecord{RecordID: id, Data: v,
			ApproximateArrivalTimestamp: events.MilliSecondsEpochTime{Time: time.UnixMilli(arrivalMs)}})
	}
	msk.Records = append(msk.Records, transform.MSKRecord{RecordID: "tomb", ApproximateArrivalTimestamp: arrivalMs,
		MSKRecordMetadata: transform.MSKRecordMetadata{Offset: "8", PartitionID: "1"}})
	h := &transform.Handler{Now: clock}
	mskPayload, _ := json.Marshal(msk)
	kinPayload, _ := json.Marshal(kin)
	mskOut, err := h.Invoke(context.Background(), mskPayload)
	if err != nil {
		t.Fatal(err)
	}
	kinOut, err := h.Invoke(context.Background(), kinPayload)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mskOut), `"data"`) || strings.Contains(string(kinOut), "kafkaRecordValue") {
		t.Fatalf("answered in the wrong field:\n%s\n%s", mskOut, kinOut)
	}
	var got transform.MSKResponse
	if err := json.Unmarshal(mskOut, &got); err != nil {
		t.Fatal(err)
	}
	var want events.KinesisFirehoseResponse
	if err := json.Unmarshal(kinOut, &want); err != nil {
		t.Fatal(err)
	}
	if len(got.Records) != 4 || len(want.Records) != 3 {
		t.Fatalf("%d and %d records", len(got.Records), len(want.Records))
	}
	for i, w := range want.Records {
		g := got.Records[i]
		if g.RecordID != w.RecordID || g.Result != string(w.Result) || string(g.KafkaRecordValue) != string(w.Data) ||
			g.Metadata.PartitionKeys["route"] != w.Metadata.PartitionKeys["route"] || g.Metadata.PartitionKeys["dt"] != w.Metadata.PartitionKeys["dt"] ||
			g.Metadata.PartitionKeys["hour"] != w.Metadata.PartitionKeys["hour"] {
			t.Errorf("record %s: MSK source gave %+v %s, Kinesis source %+v %s", w.RecordID, g, g.KafkaRecordValue, w, w.Data)
		}
	}
	routes := []string{got.Records[0].Metadata.PartitionKeys["route"], got.Records[1].Metadata.PartitionKeys["route"],
		got.Records[2].Metadata.PartitionKeys["route"]}
	if routes[0] != "events" || routes[1] != "errors/invalid_json" || routes[2] != "errors/missing_field" {
		t.Fatalf("routes %v", routes)
	}
	tomb := got.Records[3]
	if tomb.Result != "Ok" || tomb.Metadata.PartitionKeys["route"] != "errors/tombstone" || tomb.Metadata.PartitionKeys["dt"] != "2026-11-22" ||
		!strings.Contains(string(tomb.KafkaRecordValue), `"reason":"tombstone"`) {
		t.Fatalf("tombstone: %+v %s", tomb, tomb.KafkaRecordValue)
	}
}
