package transform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

// BenchmarkInvoke runs the transform end to end (event JSON in, response
// JSON out) over ~3 MB of ~300-byte events; the size limit is lifted so
// every record is transformed in full.
func BenchmarkInvoke(b *testing.B) {
	var recs []fhRecord
	for size, i := 0, 0; size < 3<<20-400; i++ {
		d := event300(i)
		size += len(d)
		recs = append(recs, fhRecord{RecordID: "49546986683135544286507457936321625675700192471156785154000000" + b64(d)[:4], Arrival: arrival, Data: b64(d)})
	}
	benchInvoke(b, firehoseEvent(b, recs), len(recs))
}

// benchInvoke runs Invoke on payload, an event of n records.
func benchInvoke(b *testing.B, payload []byte, n int) {
	h := &transform.Handler{Now: clock, MaxResponseBytes: 1 << 40, ReuseResponse: true}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkInvokeMSK is BenchmarkInvoke on the same events from an MSK
// source: kafkaRecordValue and mskRecordMetadata instead of data.
func BenchmarkInvokeMSK(b *testing.B) {
	ev := transform.MSKEvent{InvocationID: "inv-1", DeliveryStreamArn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/raw",
		SourceMSKArn: "arn:aws:kafka:us-east-1:123456789012:cluster/events/6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d-s1", Region: "us-east-1"}
	for size, i := 0, 0; size < 3<<20-400; i++ {
		d := event300(i)
		size += len(d)
		ev.Records = append(ev.Records, transform.MSKRecord{RecordID: fmt.Sprintf("%d-%d-%s", i%3, i, b64(d)[:4]), ApproximateArrivalTimestamp: arrival,
			KafkaRecordValue: []byte(d), MSKRecordMetadata: transform.MSKRecordMetadata{Offset: strconv.Itoa(i), PartitionID: strconv.Itoa(i % 3), ApproximateArrivalTimestamp: arrival}})
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, payload, len(ev.Records))
}
