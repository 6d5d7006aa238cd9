package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// noAWSConfig makes the standard chain see no AWS configuration; the
// instance-metadata lookup stays on, pointed at a port nothing answers.
func noAWSConfig(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_EC2_METADATA_DISABLED"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9")
}

// Errors no retry can fix fail at once, in one line, saying what to do.
func TestPermanentAWSErrors(t *testing.T) {
	noAWSConfig(t)
	ndjson := filepath.Join(t.TempDir(), "events.ndjson")
	writeFile(t, ndjson, `{"event_id":"a","event_type":"click","event_time":"2026-11-21T10:00:00Z","user_id":"u"}`+"\n")
	check := func(t *testing.T, want string, args ...string) {
		t.Helper()
		start := time.Now()
		code, _, stderr := runCLI(t, "", args...)
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("took %s, want under 3 s", took)
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
