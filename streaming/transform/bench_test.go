package transform_test

import (
	"context"
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
	payload := firehoseEvent(b, recs)
	h := &transform.Handler{Now: clock, MaxResponseBytes: 1 << 40, ReuseResponse: true}
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), payload); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
