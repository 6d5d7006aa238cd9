package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Bucket creates an empty S3 bucket with a unique name on the emulator and
// removes it (with its objects) when the test ends.
func Bucket(t testing.TB) string {
	t.Helper()
	cfg := Config(t)
	client := cfg.S3()
	name := Name(t, "ls")
	ctx := context.Background()
	in := &s3.CreateBucketInput{Bucket: aws.String(name)}
	if r := cfg.AWS.Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	if _, err := client.CreateBucket(ctx, in); err != nil {
		t.Fatalf("testenv: creating bucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Logf("testenv: listing bucket %s for cleanup: %v", name, err)
				return
			}
			if len(page.Contents) == 0 {
				break
			}
			ids := make([]s3types.ObjectIdentifier, len(page.Contents))
			for i, o := range page.Contents {
				ids[i] = s3types.ObjectIdentifier{Key: o.Key}
			}
			if _, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(name),
				Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
				t.Logf("testenv: emptying bucket %s: %v", name, err)
				return
			}
		}
		if _, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
			t.Logf("testenv: deleting bucket %s: %v", name, err)
		}
	})
	return name
}

// Stream creates a Kinesis stream with a unique name and the given number of
// shards, waits until it is ACTIVE, and deletes it when the test ends.
func Stream(t testing.TB, shards int32) string {
	t.Helper()
	client := Config(t).Kinesis()
	name := Name(t, "ls")
	ctx := context.Background()
	if _, err := client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("testenv: creating stream %s: %v", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 500 * time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, time.Minute); err != nil {
		t.Fatalf("testenv: waiting for stream %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := client.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name),
			EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
			t.Logf("testenv: deleting stream %s: %v", name, err)
		}
	})
	return name
}
