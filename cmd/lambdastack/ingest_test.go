package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming"
)

func TestProduceLinesToMemStream(t *testing.T) {
	ctx := context.Background()
	var in strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&in, `{"event_id":"e%d","event_type":"a","event_time":"2026-01-01T00:00:00Z","user_id":"user-%d"}`+"\n", i, i%7)
	}
	in.WriteString("not json\n\n")
	for _, agg := range []bool{false, true} {
		m := streaming.NewMemStream(2)
		sum, err := produceLines(ctx, strings.NewReader(in.String()), 0, m, produceOptions{stream: "s", aggregate: agg, senders: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.lines != 1001 || sum.stats.Records != 1001 || sum.stats.Failed != 0 {
			t.Fatalf("aggregate=%v: %s", agg, sum)
		}
		if agg && sum.stats.Puts > 100 {
			t.Fatalf("aggregated into %d Kinesis records", sum.stats.Puts)
		}
		if !strings.Contains(sum.String(), "produced 1001 of 1001 events to s") {
			t.Fatalf("summary %q", sum)
		}
	}
}

func TestTransformCommand(t *testing.T) {
	ev := fmt.Sprintf(`{"records":[{"recordId":"a","approximateArrivalTimestamp":1767225600000,"data":%q},{"recordId":"b","data":"bm9wZQ=="}]}`,
		base64.StdEncoding.EncodeToString([]byte(`{"event_id":"e","event_type":"a","event_time":"2026-01-01T00:00:00Z","user_id":"u"}`)))
	var out, errOut bytes.Buffer
	code := run(context.Background(), &cliEnv{stdin: strings.NewReader(ev), stdout: &out, stderr: &errOut}, []string{"transform"})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var resp events.KinesisFirehoseResponse
	if err := json.Unmarshal(out.Bytes(), &resp); err != nil || len(resp.Records) != 2 {
		t.Fatalf("%v: %s", err, out.String())
	}
	if resp.Records[0].Metadata.PartitionKeys["route"] != "events" || resp.Records[1].Metadata.PartitionKeys["route"] != "errors/invalid_json" {
		t.Fatalf("routes: %+v", resp.Records)
	}
	if code := run(context.Background(), &cliEnv{stdin: strings.NewReader("{"), stdout: &out, stderr: &errOut}, []string{"transform"}); code != 1 {
		t.Fatalf("malformed event: exit %d", code)
	}
}
