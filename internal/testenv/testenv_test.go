package testenv_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var validName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func TestName(t *testing.T) {
	for _, sub := range []string{"short", "A Very_Long/Name with Spaces and UPPER case letters and more and more text"} {
		t.Run(sub, func(t *testing.T) {
			a, b := testenv.Name(t, "ls"), testenv.Name(t, "ls")
			if a == b {
				t.Errorf("two names are equal: %s", a)
			}
			for _, n := range []string{a, b} {
				if !validName.MatchString(n) || !strings.HasPrefix(n, "ls-") {
					t.Errorf("name %q is not a valid bucket/stream name starting with ls-", n)
				}
			}
		})
	}
}

func TestIntegrationHarness(t *testing.T) {
	ep := testenv.Endpoint(t)
	if !strings.HasPrefix(ep, "http") {
		t.Fatalf("endpoint %q is not a URL", ep)
	}
	if again := testenv.Endpoint(t); again != ep {
		t.Errorf("second Endpoint = %s, want the same emulator %s", again, ep)
	}
	ctx := context.Background()
	cfg := testenv.Config(t)

	bucket := testenv.Bucket(t)
	s3c := cfg.S3()
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("bucket %s made by testenv.Bucket: %v", bucket, err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("a/b.txt"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("putting an object: %v", err)
	}

	stream := testenv.Stream(t, 2)
	out, err := cfg.Kinesis().DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("describing stream %s: %v", stream, err)
	}
	if got := aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount); got != 2 {
		t.Errorf("stream %s has %d open shards, want 2", stream, got)
	}
}
