package transform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/streaming/transform"
)

// FuzzInvoke checks the payload scanner against encoding/json: whenever
// encoding/json reads the event (as the Lambda runtime would for a typed
// handler), Invoke answers the same as Handle on the decoded event, and
// Invoke's response is always valid JSON.
func FuzzInvoke(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"records":[{"recordId":"a\u0062","data":"e30\u003d","approximateArrivalTimestamp":1.5e12,"x":[{"y":"\""}]}]}`))
	f.Add([]byte(`{"records":[{"recordId":"a","data":"e30=\r\n"}], "records":[]}`))
	h := &transform.Handler{Now: clock}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := h.Invoke(context.Background(), payload)
		if err == nil && !json.Valid(out) {
			t.Fatalf("invalid response JSON for %q:\n%s", payload, out)
		}
		var ev events.KinesisFirehoseEvent
		if json.Unmarshal(payload, &ev) != nil {
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(payload, &obj) != nil || obj["records"] == nil {
			return // not an object with records: we refuse what it accepts as empty
		}
		for _, r := range ev.Records {
			if r.RecordID == "" {
				return // we refuse records without an id
			}
		}
		if err != nil {
			t.Fatalf("encoding/json reads %q, Invoke: %v", payload, err)
		}
		typed, err := h.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		tb, _ := json.Marshal(typed)
		if a, b := describe(t, out), describe(t, tb); !bytes.Equal(a, b) {
			t.Fatalf("Invoke and Handle differ on %q:\n%s\n%s", payload, a, b)
		}
	})
}
