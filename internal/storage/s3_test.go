package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestParseS3URI(t *testing.T) {
	for _, tc := range []struct {
		loc, bucket, prefix string
		err                 bool
	}{
		{"s3://b", "b", "", false},
		{"s3://b/", "b", "", false},
		{"s3://b/raw", "b", "raw", false},
		{"s3://b/raw/events/", "b", "raw/events", false},
		{"s3:///x", "", "", true},
		{"/tmp/x", "", "", true},
	} {
		t.Run(tc.loc, func(t *testing.T) {
			b, p, err := storage.ParseS3URI(tc.loc)
			if (err != nil) != tc.err || b != tc.bucket || p != tc.prefix {
				t.Errorf("ParseS3URI(%q) = %q, %q, %v; want %q, %q, error %v", tc.loc, b, p, err, tc.bucket, tc.prefix, tc.err)
			}
		})
	}
}

func TestOpenLocations(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, loc := range []string{dir, "file://" + dir} {
		s, err := storage.Open(ctx, loc)
		if err != nil {
			t.Fatalf("Open(%q): %v", loc, err)
		}
		if _, ok := s.(*storage.Local); !ok {
			t.Errorf("Open(%q) = %T, want *storage.Local", loc, s)
		}
	}
	for _, loc := range []string{"", "gs://bucket/x", "s3://"} {
		if _, err := storage.Open(ctx, loc); err == nil {
			t.Errorf("Open(%q) succeeded, want an error", loc)
		}
	}
	s := storage.NewS3(fakeS3{}, "bkt", "/a/b/")
	if s.Location() != "s3://bkt/a/b" {
		t.Errorf("Location = %q, want s3://bkt/a/b", s.Location())
	}
}

// fakeS3 embeds the interface; each test sets only the calls it makes.
type fakeS3 struct {
	storage.S3API
	list func(*s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error)
	get  func(*s3.GetObjectInput) (*s3.GetObjectOutput, error)
}

func (f fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return f.list(in)
}

func (f fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f.get(in)
}

func TestS3ListFollowsPages(t *testing.T) {
	// Three pages of two keys, served out of order inside each page to
	// check the store sorts.
	pages := [][]string{{"p/k1", "p/k0"}, {"p/k3", "p/k2"}, {"p/k4/", "p/k5"}}
	var calls int
	s := storage.NewS3(fakeS3{list: func(in *s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error) {
		calls++
		if aws.ToString(in.Prefix) != "p/k" {
			return nil, fmt.Errorf("prefix %q, want p/k", aws.ToString(in.Prefix))
		}
		i := 0
		if in.ContinuationToken != nil {
			fmt.Sscan(*in.ContinuationToken, &i)
		}
		out := &s3.ListObjectsV2Output{}
		for _, k := range pages[i] {
			out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(3), ETag: aws.String(`"abc"`)})
		}
		if i+1 < len(pages) {
			out.IsTruncated = aws.Bool(true)
			out.NextContinuationToken = aws.String(fmt.Sprint(i + 1))
		}
		return out, nil
	}}, "bkt", "p")
	l, err := s.List(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range l {
		keys = append(keys, o.Key)
	}
	if fmt.Sprint(keys) != "[k0 k1 k2 k3 k5]" || calls != 3 || l[0].ETag != "abc" {
		t.Errorf("List = %v after %d calls (etag %q); want [k0 k1 k2 k3 k5] after 3 calls, etag abc", keys, calls, l[0].ETag)
	}
}

func TestS3GetErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		notExist bool
	}{
		{"NoSuchKey", &types.NoSuchKey{}, true},
		{"NoSuchBucket", &types.NoSuchBucket{}, false},
		{"other", errors.New("connection refused"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storage.NewS3(fakeS3{get: func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) { return nil, tc.err }}, "bkt", "")
			_, err := s.Get(context.Background(), "k")
			if err == nil || errors.Is(err, storage.ErrNotExist) != tc.notExist {
				t.Errorf("Get with %v: err = %v, want ErrNotExist %v", tc.err, err, tc.notExist)
			}
		})
	}
}

// A missing bucket is a configuration error, not a missing object.
func TestIntegrationS3MissingBucket(t *testing.T) {
	cfg := testenv.Config(t)
	s, err := storage.OpenWith(context.Background(), "s3://"+testenv.Name(t, "nobucket")+"/p", &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(context.Background(), "k"); err == nil || errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Get from a missing bucket: err = %v, want an error other than ErrNotExist", err)
	}
	if _, err := s.List(context.Background(), ""); err == nil {
		t.Error("List of a missing bucket succeeded")
	}
	if err := s.Put(context.Background(), "k", []byte("x")); err == nil {
		t.Error("Put into a missing bucket succeeded")
	}
}
