package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"regexp"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

func main() {
	write := flag.String("write-event", "", "write the benchmark event (~3 MB of ~300-byte events, 2% bad) to this file and exit")
	eventFile := flag.String("event", "", "Firehose event JSON to transform")
	impl := flag.String("impl", "ours", "ours | encoding/json")
	seconds := flag.Float64("seconds", 5, "run for at least this long")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	iters := flag.Int("iterations", 0, "run exactly this many iterations instead of -seconds (for instruction counts under valgrind)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(*write, *eventFile, *impl, *seconds, *iters); err != nil {
		fmt.Fprintln(os.Stderr, "bench/transform:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(write, eventFile, impl string, seconds float64, fixed int) error {
	if write != "" {
		return os.WriteFile(write, benchEvent(), 0o644)
	}
	payload, err := os.ReadFile(eventFile)
	if err != nil {
		return fmt.Errorf("reading the event: %w", err)
	}
	var records int
	var invoke func() ([]byte, error)
	now := func() time.Time { return time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC) }
	switch impl {
	case "ours":
		// The size limit is lifted so every record is transformed in full
		// (a 3 MB batch of small events would otherwise end in
		// ProcessingFailed entries, which cost less).
		// ReuseResponse as lambdas/transform runs it.
		h := &transform.Handler{Now: now, MaxResponseBytes: math.MaxInt, ReuseResponse: true}
		invoke = func() ([]byte, error) { return h.Invoke(context.Background(), payload) }
	case "encoding/json":
		invoke = func() ([]byte, error) { return stdlibTransform(payload, now()) }
	default:
		return fmt.Errorf("unknown -impl %q", impl)
	}
	first, err := invoke()
	if err != nil {
		return err
	}
	out := append([]byte(nil), first...)
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return fmt.Errorf("the response does not decode: %w", err)
	}
	ok := 0
	for _, r := range resp.Records {
		if r.Result == "Ok" {
			ok++
		}
	}
	records = len(resp.Records)
	iters := 0
	wall0, cpu0 := time.Now(), cpuTime()
	for (fixed == 0 && (time.Since(wall0).Seconds() < seconds || iters < 3)) || (fixed > 0 && iters < fixed) {
		if _, err := invoke(); err != nil {
			return err
		}
		iters++
	}
	wall, cpu := time.Since(wall0).Seconds(), (cpuTime() - cpu0).Seconds()
	n := float64(records * iters)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"impl": impl, "records": records, "ok": ok, "iterations": iters,
		"payload_bytes": len(payload), "response_bytes": len(out), "wall_s": wall, "cpu_s": cpu,
		"records_per_s_wall": n / wall, "records_per_s_cpu": n / cpu})
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchEvent builds the benchmark event as Firehose sends it from a Kinesis
// source: records of ~300 bytes with their Kinesis metadata, up to 3 MB of
// data or Lambda's 6 MB request, whichever comes first; every 50th one bad
// (cycling through a few reasons).
func benchEvent() []byte {
	bad := []string{`{"event_id":"x",`, `{"event_id":"e","event_type":"Bad Type","event_time":"2026-11-22T10:00:00Z","user_id":"u"}`,
		`{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z"}`, `{"event_id":"e","event_type":"a","event_time":"2026-11-22T10:00:00Z","user_id":17}`}
	var recs []map[string]any
	for size, request, i := 0, 400, 0; ; i++ {
		d := fmt.Sprintf(`{"event_id":"0b4f6a1e-7c1d-4c7e-9a39-%012d","event_type":"page_view","event_time":"2026-11-22T10:%02d:%02d.%03dZ",`+
			`"user_id":"user-%06d","session_id":"sess-%06d","source":"web","value":%d.5,"attributes":{"path":"/pricing","referrer":"https://example.com/"}}`,
			i, i/60%60, i%60, i%1000, i%5000, i%700, i%100)
		if i%50 == 49 {
			d = bad[(i/50)%len(bad)]
		}
		rec := map[string]any{"recordId": fmt.Sprintf("49546986683135544286507457936321625675700192471156785154%06d", i),
			"approximateArrivalTimestamp": 1795348800000, "data": base64.StdEncoding.EncodeToString([]byte(d)),
			"kinesisRecordMetadata": map[string]any{"shardId": "shardId-000000000000", "partitionKey": fmt.Sprintf("user-%06d", i%5000),
				"approximateArrivalTimestamp": 1795348800000, "sequenceNumber": fmt.Sprintf("49546986683135544286507457936321625675700192471156785154%06d", i), "subsequenceNumber": 0}}
		rb, _ := json.Marshal(rec)
		if size+len(d) > 3<<20 || request+len(rb)+1 > 6<<20 {
			break
		}
		size, request = size+len(d), request+len(rb)+1
		recs = append(recs, rec)
	}
	b, _ := json.Marshal(map[string]any{"invocationId": "bench", "deliveryStreamArn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/raw",
		"sourceKinesisStreamArn": "arn:aws:kinesis:us-east-1:123456789012:stream/events", "region": "us-east-1", "records": recs})
	return b
}

var eventTypeRE = regexp.MustCompile(`^[a-z][a-z0-9_.-]{0,63}$`)

// stdlibTransform is the same logic written the usual way: the runtime's
// encoding/json decoding of the typed event, json.Unmarshal of each record
// into a map, checks, enrichment, json.Marshal, and the typed response
// marshaled by encoding/json.
func stdlibTransform(payload []byte, now time.Time) ([]byte, error) {
	var ev events.KinesisFirehoseEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	resp := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, 0, len(ev.Records))}
	for _, r := range ev.Records {
		received := now
		if !r.ApproximateArrivalTimestamp.IsZero() {
			received = r.ApproximateArrivalTimestamp.UTC()
		}
		out := events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateOk}
		var m map[string]any
		err := json.Unmarshal(r.Data, &m)
		var t time.Time
		if err == nil {
			t, err = check(m, received)
		}
		if err != nil {
			env, _ := json.Marshal(map[string]any{"reason": "rejected", "detail": err.Error(), "received_time": received.Format("2006-01-02T15:04:05.000Z07:00"), "record": string(r.Data)})
			out.Data = append(env, '\n')
			out.Metadata.PartitionKeys = map[string]string{"route": "errors/rejected", "dt": received.Format("2006-01-02"), "hour": received.Format("15")}
		} else {
			m["event_time"] = t.Format("2006-01-02T15:04:05.000Z07:00")
			m["received_time"] = received.Format("2006-01-02T15:04:05.000Z07:00")
			m["dt"], m["hour"] = t.Format("2006-01-02"), t.Format("15")
			line, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			out.Data = append(line, '\n')
			out.Metadata.PartitionKeys = map[string]string{"route": "events", "dt": t.Format("2006-01-02"), "hour": t.Format("15")}
		}
		resp.Records = append(resp.Records, out)
	}
	return json.Marshal(resp)
}

func check(m map[string]any, received time.Time) (time.Time, error) {
	for _, f := range []string{"event_id", "event_type", "user_id"} {
		if s, ok := m[f].(string); !ok || s == "" {
			return time.Time{}, fmt.Errorf("%s missing or not a string", f)
		}
	}
	if !eventTypeRE.MatchString(m["event_type"].(string)) {
		return time.Time{}, errors.New("bad event_type")
	}
	var t time.Time
	switch v := m["event_time"].(type) {
	case string:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return t, err
		}
	case float64:
		t = time.UnixMilli(int64(v))
	default:
		return t, errors.New("event_time missing")
	}
	t = t.UTC()
	if t.After(received.Add(15 * time.Minute)) {
		return t, errors.New("future_time")
	}
	if v, ok := m["value"]; ok {
		if _, ok := v.(float64); !ok {
			return t, errors.New("value not a number")
		}
	}
	if a, ok := m["attributes"]; ok {
		am, ok := a.(map[string]any)
		if !ok || len(am) > 50 {
			return t, errors.New("bad attributes")
		}
		for _, v := range am {
			if _, ok := v.(string); !ok {
				return t, errors.New("attribute not a string")
			}
		}
	}
	if s, ok := m["source"].(string); !ok || s == "" {
		m["source"] = "unknown"
	}
	return t, nil
}
