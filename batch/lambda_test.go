package batch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lambdastack/lambdastack/batch"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		needRaw bool
		want    time.Duration
		wantErr bool
	}{
		{"defaults", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/"}, true, batch.DefaultLateness, false},
		{"lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "ALLOWED_LATENESS": "30m"}, true, 30 * time.Minute, false},
		{"merge needs no raw", map[string]string{"VIEWS_LOCATION": "s3://v/"}, false, batch.DefaultLateness, false},
		{"batch needs raw", map[string]string{"VIEWS_LOCATION": "s3://v/"}, true, 0, true},
		{"no views", map[string]string{"RAW_LOCATION": "s3://r/"}, true, 0, true},
		{"bad lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "ALLOWED_LATENESS": "soon"}, true, 0, true},
		{"negative lateness", map[string]string{"RAW_LOCATION": "s3://r/", "VIEWS_LOCATION": "s3://v/", "ALLOWED_LATENESS": "-1m"}, true, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := batch.ConfigFromEnv(func(k string) string { return tc.env[k] }, tc.needRaw)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && c.Lateness != tc.want {
				t.Errorf("lateness %s, want %s", c.Lateness, tc.want)
			}
		})
	}
}

// The scheduled handlers run the same batch and merge on a schedule event.
func TestHandlers(t *testing.T) {
	ctx := context.Background()
	d := genEvents(9, 500, dataStart, dataEnd, 0.1)
	raw, views := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	writeSpeed(t, views, d.events)
	bh := &batch.BatchHandler{Raw: raw, Views: views, Lateness: batch.DefaultLateness, Now: fixedNow(runAt)}
	sum, err := bh.Handle(ctx, events.CloudWatchEvent{ID: "sched-1"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Valid == 0 || len(sum.Hours) == 0 {
		t.Fatalf("batch handler built nothing: %+v", sum)
	}
	mh := &batch.MergeHandler{Views: views, Now: fixedNow(runAt)}
	msum, err := mh.Handle(ctx, events.CloudWatchEvent{ID: "sched-2"})
	if err != nil {
		t.Fatal(err)
	}
	if !msum.Watermark.Equal(sum.Watermark) || msum.HourRows == 0 {
		t.Errorf("merge handler: %+v", msum)
	}
}

// A long run reports progress: objects, rows, MB/s and an ETA.
func TestProgress(t *testing.T) {
	d := genEvents(13, 300, dataStart, dataEnd, 0)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	var buf strings.Builder
	tick := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { tick = tick.Add(2 * time.Second); return tick }
	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Progress: batch.NewProgress(&buf, clock)}
	if _, err := b.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	last := lines[len(lines)-1]
	if len(lines) < 2 || !strings.Contains(last, "objects ") || !strings.Contains(last, "MB/s, ETA") {
		t.Fatalf("progress output:\n%s", buf.String())
	}
}
