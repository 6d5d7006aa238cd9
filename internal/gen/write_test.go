package gen_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lambdastack/lambdastack/internal/gen"
)

func ndjsonLines(t *testing.T, cfg gen.Config) ([]string, gen.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := gen.Write(&buf, cfg, gen.NDJSON, gen.Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Bytes != int64(buf.Len()) || sum.RecordBytes != int64(buf.Len()-cfg.Events) {
		t.Fatalf("summary bytes %d, record bytes %d; wrote %d bytes in %d lines", sum.Bytes, sum.RecordBytes, buf.Len(), cfg.Events)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != cfg.Events || sum.Events != cfg.Events {
		t.Fatalf("%d lines, summary %d events, want %d", len(lines), sum.Events, cfg.Events)
	}
	return lines, sum
}

func TestWriteIsReproducible(t *testing.T) {
	cfg := testConfig(3000)
	a, sa := ndjsonLines(t, cfg)
	b, sb := ndjsonLines(t, cfg)
	if strings.Join(a, "\n") != strings.Join(b, "\n") || sa.Bytes != sb.Bytes {
		t.Error("two runs with the same seed differ")
	}
	cfg.Seed++
	c, _ := ndjsonLines(t, cfg)
	if strings.Join(a, "\n") == strings.Join(c, "\n") {
		t.Error("runs with different seeds are equal")
	}
}

// The firehose and kinesis formats decode as aws-lambda-go's events and
// carry exactly the NDJSON records of the same run, in order per shard.
func TestWriteEnvelopes(t *testing.T) {
	cfg := testConfig(2500)
	want, _ := ndjsonLines(t, cfg)
	for _, tc := range []struct {
		f      gen.Format
		shards int
	}{{gen.Firehose, 1}, {gen.Kinesis, 1}, {gen.Kinesis, 4}, {gen.Firehose, 3}} {
		t.Run(string(tc.f)+"/shards="+string(rune('0'+tc.shards)), func(t *testing.T) {
			var buf bytes.Buffer
			sum, err := gen.Write(&buf, cfg, tc.f, gen.Envelope{Batch: 100, Shards: tc.shards})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Bytes != int64(buf.Len()) {
				t.Errorf("summary bytes %d, wrote %d", sum.Bytes, buf.Len())
			}
			type rec struct{ data, key, shard, seq string }
			var got []rec
			sc := bufio.NewReader(&buf)
			for {
				line, err := sc.ReadBytes('\n')
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				var n int
				if tc.f == gen.Firehose {
					var ev events.KinesisFirehoseEvent
					if err := json.Unmarshal(line, &ev); err != nil {
						t.Fatalf("decoding a firehose event: %v", err)
					}
					if ev.InvocationID == "" || !strings.HasPrefix(ev.DeliveryStreamArn, "arn:aws:firehose:") || ev.Region == "" {
						t.Errorf("firehose event header incomplete: %+v", ev)
					}
					for _, r := range ev.Records {
						m := r.KinesisFirehoseRecordMetadata
						if r.RecordID == "" || r.ApproximateArrivalTimestamp.IsZero() {
							t.Errorf("record without id or arrival: %+v", r)
						}
						got = append(got, rec{string(r.Data), m.PartitionKey, m.ShardID, m.SequenceNumber})
					}
					n = len(ev.Records)
				} else {
					var ev events.KinesisEvent
					if err := json.Unmarshal(line, &ev); err != nil {
						t.Fatalf("decoding a kinesis event: %v", err)
					}
					for _, r := range ev.Records {
						shard, seq, _ := strings.Cut(r.EventID, ":")
						if seq != r.Kinesis.SequenceNumber || r.EventSource != "aws:kinesis" || r.Kinesis.ApproximateArrivalTimestamp.IsZero() {
							t.Errorf("record fields inconsistent: %+v", r)
						}
						got = append(got, rec{string(r.Kinesis.Data), r.Kinesis.PartitionKey, shard, r.Kinesis.SequenceNumber})
					}
					n = len(ev.Records)
				}
				if n == 0 || n > 100 {
					t.Errorf("event with %d records, want 1..100", n)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d records, want %d", len(got), len(want))
			}
			// Per shard: records in generation order with increasing sequence numbers.
			lastSeq := map[string]string{}
			shardOfKey := map[string]string{}
			var perShard = map[string][]string{}
			for _, r := range got {
				if len(r.seq) != 56 || r.seq <= lastSeq[r.shard] {
					t.Fatalf("sequence %q in %s not 56 digits increasing after %q", r.seq, r.shard, lastSeq[r.shard])
				}
				lastSeq[r.shard] = r.seq
				if s, ok := shardOfKey[r.key]; ok && s != r.shard {
					t.Fatalf("partition key %s in shards %s and %s", r.key, s, r.shard)
				}
				shardOfKey[r.key] = r.shard
				perShard[r.shard] = append(perShard[r.shard], r.data)
			}
			if len(perShard) != tc.shards {
				t.Errorf("records in %d shards, want %d", len(perShard), tc.shards)
			}
			idx := map[string]int{}
			for _, line := range want {
				// Find the shard holding this record next.
				found := false
				for s, recs := range perShard {
					if idx[s] < len(recs) && recs[idx[s]] == line {
						idx[s]++
						found = true
						break
					}
				}
				if !found {
					t.Fatalf("NDJSON record %.80q not next in any shard", line)
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	good := testConfig(10)
	for name, mutate := range map[string]func(*gen.Config){
		"no hours":        func(c *gen.Config) { c.Hours = 0 },
		"no users":        func(c *gen.Config) { c.Users = 0 },
		"bad type name":   func(c *gen.Config) { c.Types = []string{"Page View"} },
		"ratio above 1":   func(c *gen.Config) { c.BadRatio = 1.5 },
		"ratios sum":      func(c *gen.Config) { c.BadRatio, c.DupRatio = 0.7, 0.5 },
		"negative":        func(c *gen.Config) { c.Events = -1 },
		"no start":        func(c *gen.Config) { c.Start = time.Time{} },
		"quote in source": func(c *gen.Config) { c.Sources = []string{`we"b`} },
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			mutate(&c)
			if _, err := gen.New(c); err == nil {
				t.Errorf("New accepted %+v", c)
			}
		})
	}
	if _, err := gen.Write(io.Discard, good, "xml", gen.Envelope{}); err == nil {
		t.Error("Write accepted format xml")
	}
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want string
		err  bool
	}{
		{"3", "page_view,click,search", false},
		{"10", "page_view,click,search,add_to_cart,purchase,signup,login,share,type_8,type_9", false},
		{"a, b ,c", "a,b,c", false},
		{"0", "", true},
		{" , ", "", true},
	} {
		got, err := gen.Names(tc.arg, gen.DefaultTypes, "type")
		if (err != nil) != tc.err || strings.Join(got, ",") != tc.want {
			t.Errorf("Names(%q) = %q, %v; want %q, error %v", tc.arg, got, err, tc.want, tc.err)
		}
	}
}

func BenchmarkWriteNDJSON(b *testing.B) {
	cfg := testConfig(100000)
	cfg.BadRatio, cfg.DupRatio, cfg.LateRatio = 0.01, 0.01, 0.02
	var bytes int64
	b.ReportAllocs()
	for b.Loop() {
		s, err := gen.Write(io.Discard, cfg, gen.NDJSON, gen.Envelope{})
		if err != nil {
			b.Fatal(err)
		}
		bytes = s.Bytes
	}
	b.SetBytes(bytes)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(cfg.Events), "ns/event")
	b.ReportMetric(float64(bytes)/float64(cfg.Events), "bytes/event")
}

// BenchmarkReferenceEncodingJSON is the reference for BenchmarkWriteNDJSON:
// the same number of events of the same shape, one encoding/json Encode
// each (what the generator avoids).
func BenchmarkReferenceEncodingJSON(b *testing.B) {
	type ev struct {
		EventID    string            `json:"event_id"`
		EventType  string            `json:"event_type"`
		EventTime  time.Time         `json:"event_time"`
		UserID     string            `json:"user_id"`
		SessionID  string            `json:"session_id,omitempty"`
		Source     string            `json:"source,omitempty"`
		Value      float64           `json:"value,omitempty"`
		Attributes map[string]string `json:"attributes,omitempty"`
	}
	const n = 100000
	e := ev{EventID: "8d0797fd-b7b1-4e94-81b8-b0d4d00bf678", EventType: "click", EventTime: time.Date(2026, 3, 1, 10, 0, 0, 188e6, time.UTC),
		UserID: "user-0009953", SessionID: "sess-a4cf949305237127", Source: "android",
		Attributes: map[string]string{"campaign": "newsletter_w47", "device": "Pixel 8"}}
	b.ReportAllocs()
	for b.Loop() {
		bw := bufio.NewWriterSize(io.Discard, 1<<20)
		enc := json.NewEncoder(bw)
		for i := range n {
			e.Value = float64(i)
			if err := enc.Encode(&e); err != nil {
				b.Fatal(err)
			}
		}
		bw.Flush()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/event")
}
