package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/views"
)

// speedEvent builds a Kinesis event of n events of one hour with ids
// id0, id0+1, … and sequence numbers from seq.
func speedEvent(t *testing.T, seq, id0, n int) []byte {
	t.Helper()
	hour := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	var ev events.KinesisEvent
	for i := range n {
		id := id0 + i
		data := fmt.Sprintf(`{"event_id":"e%d","event_type":"view","event_time":%q,"user_id":"u%d","source":"web","value":%d}`,
			id, hour.Add(time.Duration(id)*time.Second).Format(time.RFC3339), id%7, id)
		sn := fmt.Sprintf("%021d", seq+i)
		ev.Records = append(ev.Records, events.KinesisEventRecord{EventID: "shardId-000000000000:" + sn, EventSource: "aws:kinesis",
			Kinesis: events.KinesisRecord{Data: []byte(data), SequenceNumber: sn, PartitionKey: "u",
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: hour.Add(time.Hour)}}})
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func runSpeedCLI(t *testing.T, stdin []byte, args ...string) (string, int) {
	t.Helper()
	code, out, errOut := runCLI(t, string(stdin), args...)
	if code != 0 {
		t.Logf("stderr: %s", errOut)
	}
	return out, code
}

// viewFiles reads every object under dir/speed.
func viewFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(filepath.Join(dir, "speed"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		out[p] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// viewTotals merges every speed object under dir as the merge does.
func viewTotals(t *testing.T, dir string) (int64, float64) {
	t.Helper()
	tbl := agg.Table{}
	for p, data := range viewFiles(t, dir) {
		rows, err := views.Decode(context.Background(), data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		part := agg.Table{}
		for i := range rows {
			if part[rows[i].Key()], err = rows[i].Aggregate(); err != nil {
				t.Fatal(err)
			}
		}
		if err := tbl.Merge(part); err != nil {
			t.Fatal(err)
		}
	}
	var n int64
	var sum float64
	for _, k := range tbl.Keys() {
		n += tbl[k].Events
		sum += tbl[k].ValueSum
	}
	return n, sum
}

func TestSpeedCommandIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "event.json")
	if err := os.WriteFile(file, speedEvent(t, 1, 0, 50), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "views")
	first, code := runSpeedCLI(t, nil, "speed", "--event", file, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, first)
	}
	before := viewFiles(t, out)
	n1, s1 := viewTotals(t, out)
	second, code := runSpeedCLI(t, nil, "speed", "--event", file, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	after := viewFiles(t, out)
	n2, s2 := viewTotals(t, out)
	if first != second {
		t.Errorf("summaries differ:\n%s\n%s", first, second)
	}
	if len(before) != 1 || len(after) != 1 {
		t.Fatalf("%d then %d objects, want 1", len(before), len(after))
	}
	for p, b := range before {
		if !bytes.Equal(b, after[p]) {
			t.Errorf("%s changed on the second run", p)
		}
	}
	if n1 != 50 || n2 != 50 || s1 != s2 || s1 != float64(49*50/2) {
		t.Fatalf("totals %d/%g then %d/%g, want 50/%d", n1, s1, n2, s2, 49*50/2)
	}
	if !strings.Contains(first, "total: 1 invocations, 50 records (50 user records): 50 events, 0 duplicates, 0 invalid; 1 objects, 1 rows") {
		t.Errorf("summary:\n%s", first)
	}
}

func TestSpeedCommandBatchesOfOneHourAddUp(t *testing.T) {
	out := filepath.Join(t.TempDir(), "views")
	// Two invocations on stdin, as generate --format kinesis writes them;
	// the second redelivers e25..e29.
	in := append(append(speedEvent(t, 1, 0, 30), '\n'), speedEvent(t, 31, 25, 20)...)
	summary, code := runSpeedCLI(t, in, "speed", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if files := viewFiles(t, out); len(files) != 2 {
		t.Fatalf("%d objects, want 2: %v", len(files), summary)
	}
	if n, sum := viewTotals(t, out); n != 45 || sum != float64(44*45/2) {
		t.Fatalf("merged %d events, sum %g; want 45, %d", n, sum, 44*45/2)
	}
}

func TestSpeedCommandUsage(t *testing.T) {
	if _, code := runSpeedCLI(t, nil, "speed"); code != 2 {
		t.Errorf("no --out: exit %d, want 2", code)
	}
	if _, code := runSpeedCLI(t, []byte("{not json"), "speed", "--out", t.TempDir()); code != 1 {
		t.Errorf("bad event JSON: exit %d, want 1", code)
	}
	if out, code := runSpeedCLI(t, nil, "speed", "--help"); code != 0 || !strings.Contains(out, "--out") {
		t.Errorf("--help: exit %d, %q", code, out)
	}
}
