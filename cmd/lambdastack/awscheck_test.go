package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Errors no retry can fix fail at once, in one line, saying what to do.
func TestPermanentAWSErrors(t *testing.T) {
	testenv.NoAWSConfig(t)
	ndjson := filepath.Join(t.TempDir(), "events.ndjson")
	writeFile(t, ndjson, `{"event_id":"a","event_type":"click","event_time":"2026-11-21T10:00:00Z","user_id":"u"}`+"\n")
	check := func(t *testing.T, want string, args ...string) {
		t.Helper()
		start := time.Now()
		code, _, stderr := runCLI(t, "", args...)
		// The credentials lookup takes its whole timeout (2 s) when nothing
		// answers; the bound leaves room for a loaded machine under -race
		// and still catches a lookup that outlives its timeout.
		if took := time.Since(start); took > 6*time.Second {
			t.Errorf("took %s, want under 6 s", took)
		}
		if code != 1 || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("exit %d, want 1 and one line containing %q:\n%s", code, want, stderr)
		}
	}
	t.Run("no region", func(t *testing.T) {
		check(t, "export AWS_REGION=", "batch", "--raw", "s3://some-bucket/", "--out", t.TempDir())
		check(t, "export AWS_REGION=", "produce", "--stream", "events", "--file", ndjson)
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("AWS_REGION", "eu-west-1")
		check(t, "no AWS credentials found", "batch", "--raw", "s3://some-bucket/", "--out", t.TempDir())
		check(t, "no AWS credentials found", "produce", "--stream", "events", "--file", ndjson)
		check(t, "no AWS credentials found", "query", "top_event_types")
	})
}

// A stream that does not exist is named, with its region, before a record
// is sent.
func TestIntegrationProduceNoSuchStream(t *testing.T) {
	testenv.Endpoint(t)
	ndjson := filepath.Join(t.TempDir(), "events.ndjson")
	writeFile(t, ndjson, `{"event_id":"a","event_type":"click","event_time":"2026-11-21T10:00:00Z","user_id":"u"}`+"\n")
	stream := testenv.Name(t, "missing")
	code, stdout, stderr := runCLI(t, "", "produce", "--stream", stream, "--file", ndjson)
	want := `no Kinesis stream "` + stream + `" in region`
	if code != 1 || !strings.Contains(stderr, want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 || stdout != "" {
		t.Errorf("produce to a missing stream: exit %d, want 1 and one line with %q:\nstdout %q\nstderr %s", code, want, stdout, stderr)
	}
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An empty input to an existing stream is an error too, not "0 events".
func TestIntegrationProduceEmptyInput(t *testing.T) {
	cfg := testenv.Config(t)
	stream := testenv.Name(t, "empty")
	if _, err := cfg.Kinesis().CreateStream(context.Background(), &kinesis.CreateStreamInput{StreamName: &stream, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.ndjson")
	writeFile(t, empty, "")
	code, _, stderr := runCLI(t, "", "produce", "--stream", stream, "--file", empty)
	if code != 1 || !strings.Contains(stderr, "no events in "+empty) {
		t.Errorf("produce of an empty file: exit %d: %s", code, stderr)
	}
}
