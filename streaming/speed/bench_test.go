package speed_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/streaming/speed"
)

// benchBatch is a 10,000-record batch of ~300-byte events over two hours,
// 4 event types, 3 sources and 2,000 users, as one shard delivers it.
func benchBatch(n int) (events.KinesisEvent, int) {
	types := []string{"page_view", "click", "add_to_cart", "purchase"}
	sources := []string{"web", "ios", "android"}
	payloads := make([][]byte, n)
	size := 0
	for i := range payloads {
		at := hour10.Add(time.Duration(i) * 7200 * time.Second / time.Duration(n))
		payloads[i] = fmt.Appendf(nil, `{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-6c2d%012d","event_type":%q,"event_time":%q,`+
			`"user_id":"user-%06d","session_id":"sess-%06d","source":%q,"value":%d.25,"attributes":{"path":"/pricing/%d","referrer":"https://www.example.com/blog/"}}`,
			i, types[i%len(types)], at.Format("2006-01-02T15:04:05.000Z"), i%2000, i%500, sources[i%len(sources)], i%100, i%50)
		size += len(payloads[i])
	}
	ev := kinesisEvent("shardId-000000000000", 1, payloads...)
	for i := range ev.Records {
		ev.Records[i].Kinesis.ApproximateArrivalTimestamp.Time = hour10.Add(3 * time.Hour)
	}
	return ev, size / n
}

// BenchmarkHandle runs the handler on a 10,000-record batch including the
// Parquet encoding and the write to a local directory. Run it on one core:
//
//	go test -run '^$' -bench Handle -cpu 1 ./streaming/speed/
func BenchmarkHandle(b *testing.B) {
	ev, avg := benchBatch(10_000)
	st, err := storage.NewLocal(filepath.Join(b.TempDir(), "views"))
	if err != nil {
		b.Fatal(err)
	}
	h := &speed.Handler{Store: st}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(avg * len(ev.Records)))
	cpu := cpuTime()
	for b.Loop() {
		res := h.Process(ctx, ev)
		if res.Events != len(ev.Records) || len(res.Objects) != 2 {
			b.Fatalf("result %+v", res)
		}
	}
	reportRate(b, len(ev.Records), cpu)
	b.ReportMetric(float64(avg), "bytes/record")
}

// BenchmarkValidateOnly is the reference for BenchmarkHandle: the
// handler's validation (event.LeanValidator) alone on the same records, the
// floor the handler cannot beat.
func BenchmarkValidateOnly(b *testing.B) {
	ev, _ := benchBatch(10_000)
	var v event.LeanValidator
	cpu := cpuTime()
	for b.Loop() {
		for i := range ev.Records {
			r := &ev.Records[i].Kinesis
			if _, rej := v.Validate(r.Data, r.ApproximateArrivalTimestamp.Time); rej != nil {
				b.Fatal(rej)
			}
		}
	}
	reportRate(b, len(ev.Records), cpu)
}

// cpuTime is the CPU time the process has used (user + system, all
// threads: the GC's work counts).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports records per second of wall time and, because the
// machines these run on are shared, per second of CPU time used.
func reportRate(b *testing.B, perOp int, cpuStart time.Duration) {
	n := float64(perOp) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpuStart; cpu > 0 {
		b.ReportMetric(n/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkDecodeEvent measures what the Lambda runtime does before
// Handle when it is started with lambda.Start(h.Handle): encoding/json
// decoding the same 10,000-record event (Data base64 in the JSON). Not part
// of BenchmarkHandle.
func BenchmarkDecodeEvent(b *testing.B) {
	benchRead(b, func(payload []byte) (int, error) {
		var got events.KinesisEvent
		err := json.Unmarshal(payload, &got)
		return len(got.Records), err
	})
}

// BenchmarkParseEvent is the handler's own reader on the event of
// BenchmarkDecodeEvent, the reference it replaces.
func BenchmarkParseEvent(b *testing.B) {
	benchRead(b, func(payload []byte) (int, error) {
		got, err := speed.ParseKinesisEvent(payload)
		return len(got.Records), err
	})
}

// benchRead runs read, which returns how many records it found, on the
// 10,000-record Kinesis event.
func benchRead(b *testing.B, read func(payload []byte) (int, error)) {
	ev, _ := benchBatch(10_000)
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(payload)))
	cpu := cpuTime()
	for b.Loop() {
		if n, err := read(payload); err != nil || n != len(ev.Records) {
			b.Fatal(n, err)
		}
	}
	reportRate(b, len(ev.Records), cpu)
}

// BenchmarkInvoke is what the deployed function does per batch: the event
// JSON in (ParseKinesisEvent instead of the runtime's encoding/json, see
// BenchmarkDecodeEvent), the handler's work, the response JSON out.
func BenchmarkInvoke(b *testing.B) {
	ev, _ := benchBatch(10_000)
	payload, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	benchInvoke(b, payload, len(ev.Records))
}

// benchInvoke runs Handler.Invoke on payload, an event of n records.
func benchInvoke(b *testing.B, payload []byte, n int) {
	st, err := storage.NewLocal(filepath.Join(b.TempDir(), "views"))
	if err != nil {
		b.Fatal(err)
	}
	h := &speed.Handler{Store: st}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	cpu := cpuTime()
	for b.Loop() {
		out, err := h.Invoke(ctx, payload)
		if err != nil || string(out) != `{"batchItemFailures":[]}` {
			b.Fatalf("%s %v", out, err)
		}
	}
	reportRate(b, n, cpu)
}

// benchKafka is benchBatch as a Kafka event of one partition: the same
// records, offsets from 0, timestamps the Kinesis arrival times.
func benchKafka(b *testing.B) ([]byte, int) {
	ev, _ := benchBatch(10_000)
	kev := speed.KafkaEvent{EventSource: speed.SourceMSK, Records: map[string][]speed.KafkaRecord{}}
	for i, r := range ev.Records {
		kev.Records["events-0"] = append(kev.Records["events-0"], speed.KafkaRecord{Topic: "events", Offset: int64(i),
			Timestamp: r.Kinesis.ApproximateArrivalTimestamp.UnixMilli(), TimestampType: "CREATE_TIME",
			Key: []byte(r.Kinesis.PartitionKey), Value: r.Kinesis.Data})
	}
	payload, err := json.Marshal(kev)
	if err != nil {
		b.Fatal(err)
	}
	return payload, len(ev.Records)
}

// BenchmarkInvokeKafka is BenchmarkInvoke on the same records as a Kafka
// event.
func BenchmarkInvokeKafka(b *testing.B) {
	payload, n := benchKafka(b)
	benchInvoke(b, payload, n)
}

// BenchmarkParseKafkaEvent is the handler's scanner on the Kafka event of
// BenchmarkInvokeKafka; BenchmarkDecodeKafkaEvent is the alternative,
// encoding/json into events.KafkaEvent and the values base64-decoded.
func BenchmarkParseKafkaEvent(b *testing.B) {
	payload, n := benchKafka(b)
	b.SetBytes(int64(len(payload)))
	cpu := cpuTime()
	for b.Loop() {
		ev, err := speed.ParseKafkaEvent(payload)
		if err != nil || len(ev.Records["events-0"]) != n {
			b.Fatal(err)
		}
	}
	reportRate(b, n, cpu)
}

func BenchmarkDecodeKafkaEvent(b *testing.B) {
	payload, n := benchKafka(b)
	b.SetBytes(int64(len(payload)))
	cpu := cpuTime()
	for b.Loop() {
		var ev events.KafkaEvent
		if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Records["events-0"]) != n {
			b.Fatal(err)
		}
		for _, r := range ev.Records["events-0"] {
			if _, err := base64.StdEncoding.DecodeString(r.Value); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, n, cpu)
}
