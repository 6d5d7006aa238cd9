package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/streaming/transform"
)

// TestRawPrefixMatchesTransformAndTables runs the transform on a valid and
// a rejected record, expands the delivery stream's prefix with the partition
// keys it returns, and checks the keys land where the Glue tables'
// projections read: the prefix, the transform and glue/ must agree. A
// rejected record is partitioned by when it was received (its event_time may
// be missing or wrong), so the rejected ones here carry an event_time on
// another day and none at all.
func TestRawPrefixMatchesTransformAndTables(t *testing.T) {
	received := time.Date(2024, 5, 1, 13, 7, 0, 0, time.UTC)
	h := &transform.Handler{Now: func() time.Time { return received }}
	resp, err := h.Handle(context.Background(), events.KinesisFirehoseEvent{Records: []events.KinesisFirehoseEventRecord{
		{RecordID: "ok", Data: []byte(`{"event_id":"e1","event_type":"click","event_time":"2024-05-01T12:59:00Z","user_id":"u1"}`)},
		{RecordID: "bad", Data: []byte(`{"event_type":"click"}`)},
		{RecordID: "bad-time", Data: []byte(`{"event_id":"e2","event_type":"click","event_time":"2024-04-01T00:00:00Z","user_id":[1]}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	placeholder := regexp.MustCompile(`!\{partitionKeyFromLambda:([a-z_]+)\}`)
	paths := map[string]string{}
	for _, r := range resp.Records {
		if r.Result != events.KinesisFirehoseTransformedStateOk {
			t.Fatalf("record %s: result %s", r.RecordID, r.Result)
		}
		var missing []string
		paths[r.RecordID] = placeholder.ReplaceAllStringFunc(RawPrefix, func(m string) string {
			key := placeholder.FindStringSubmatch(m)[1]
			v, ok := r.Metadata.PartitionKeys[key]
			if !ok {
				missing = append(missing, key)
			}
			return v
		})
		if len(missing) > 0 {
			t.Errorf("record %s: the transform returns no partition key %v (keys %v)", r.RecordID, missing, r.Metadata.PartitionKeys)
		}
	}
	table := func(tb glue.Table, values map[string]string) string {
		p := tb.Prefix + tb.PathTemplate
		for k, v := range values {
			p = strings.ReplaceAll(p, "${"+k+"}", v)
		}
		return p
	}
	if want := table(glue.RawEvents, map[string]string{"dt": "2024-05-01", "hour": "12"}); paths["ok"] != want {
		t.Errorf("a valid event lands under %q, want the raw_events partition %q", paths["ok"], want)
	}
	for id, reason := range map[string]string{"bad": "missing_field", "bad-time": "bad_type"} {
		want := table(glue.Errors, map[string]string{"reason_code": reason, "dt": "2024-05-01", "hour": "13"})
		if strings.Contains(want, "${") {
			t.Fatalf("the errors template %q has a key this test does not fill", want)
		}
		if paths[id] != want {
			t.Errorf("rejected record %s lands under %q, want the errors partition %q (received %s)", id, paths[id], want, received)
		}
	}

}
