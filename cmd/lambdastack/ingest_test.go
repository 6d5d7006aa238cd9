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

// TestTransformCommandLayouts runs the same events one a line, indented
// over many lines and run together: the responses are the same, and a
// malformed event among them is reported by its number.
func TestTransformCommandLayouts(t *testing.T) {
	var evs []string
	for i := range 3 {
		evs = append(evs, fmt.Sprintf(`{"records":[{"recordId":"r%d","approximateArrivalTimestamp":1767225600000,"data":%q}]}`, i,
			base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"event_id":"e%d","event_type":"a","event_time":"2026-01-01T00:00:00Z","user_id":"u"}`, i))))
	}
	indented := make([]string, len(evs))
	for i, ev := range evs {
		var b bytes.Buffer
		if err := json.Indent(&b, []byte(ev), "", "  "); err != nil {
			t.Fatal(err)
		}
		indented[i] = b.String()
	}
	transform := func(in string) (string, int, string) {
		var out, errOut bytes.Buffer
		code := run(context.Background(), &cliEnv{stdin: strings.NewReader(in), stdout: &out, stderr: &errOut}, []string{"transform"})
		return out.String(), code, errOut.String()
	}
	want, code, errs := transform(strings.Join(evs, "\n") + "\n")
	if code != 0 || strings.Count(want, "\n") != 3 || !strings.Contains(want, `"recordId":"r2"`) {
		t.Fatalf("one a line: exit %d %s\n%s", code, errs, want)
	}
	for name, in := range map[string]string{
		"no final newline": strings.Join(evs, "\n"),
		"indented":         strings.Join(indented, "\n"),
		"run together":     strings.Join(evs, ""),
		"mixed":            evs[0] + "\n" + indented[1] + evs[2],
	} {
		if got, code, errs := transform(in); code != 0 || got != want {
			t.Errorf("%s: exit %d %s\n%s\nwant\n%s", name, code, errs, got, want)
		}
	}
	for name, in := range map[string]string{
		"one a line": evs[0] + "\n" + `{"records":[{"recordId":"x","data":"e30=",}]}` + "\n" + evs[2] + "\n",
		"indented":   indented[0] + "\n" + `{"records":[{"recordId":"x",` + "\n" + `"data":"e30=",}]}` + "\n" + evs[2],
	} {
		if _, code, errs := transform(in); code != 1 || !strings.Contains(errs, "value 2 of stdin is not a Firehose event") {
			t.Errorf("%s, a malformed second event: exit %d, %s", name, code, errs)
		}
	}
}
