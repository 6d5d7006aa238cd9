package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lambdastack/lambdastack/internal/awscfg"
)

// S3API is the part of the S3 client the S3 store uses.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

// S3 is a Store under a prefix of an S3 bucket.
type S3 struct {
	client S3API
	bucket string
	prefix string // "" or ending in "/"
}

// NewS3 returns a store for s3://bucket/prefix using client (for example
// awscfg.Config.S3()).
func NewS3(client S3API, bucket, prefix string) *S3 {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}
}

// ParseS3URI splits s3://bucket/prefix into bucket and prefix (which may be
// empty).
func ParseS3URI(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("location %q is not an s3:// URI", loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("location %q names no bucket", loc)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// Location is s3://bucket/prefix.
func (s *S3) Location() string {
	return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *S3) uri(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

// objectKey checks key the way the local store does and returns the full
// S3 key. Keys must be clean relative paths, so both stores name the same
// objects.
func (s *S3) objectKey(key string) (string, error) {
	if key == "" || strings.HasSuffix(key, "/") || strings.HasPrefix(key, "/") || path.Clean(key) != key {
		return "", fmt.Errorf("invalid object key %q", key)
	}
	return s.prefix + key, nil
}

func (s *S3) Put(ctx context.Context, key string, data []byte) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	})
	if err != nil {
		return fmt.Errorf("putting %s: %w", s.uri(key), err)
	}
	return nil
}

// Copy is a server-side copy (CopyObject: objects up to 5 GB, which a
// view object is far below): the bytes stay in S3.
func (s *S3) Copy(ctx context.Context, from, to string) error {
	src, err := s.objectKey(from)
	if err != nil {
		return err
	}
	dst, err := s.objectKey(to)
	if err != nil {
		return err
	}
	_, err = s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:     aws.String(s.bucket),
		Key:        aws.String(dst),
		CopySource: aws.String(url.PathEscape(s.bucket) + "/" + escapeKey(src)),
	})
	if err != nil {
		if isNotFound(err) {
			return fmt.Errorf("copying %s to %s: %w", s.uri(from), s.uri(to), ErrNotExist)
		}
		return fmt.Errorf("copying %s to %s: %w", s.uri(from), s.uri(to), err)
	}
	return nil
}

// escapeKey URL-encodes each segment of an object key, as CopySource
// wants it.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	return s.open(ctx, key)
}

// open starts reading an object: the body of every read, Get's and
// GetVersion's, resumes where its connection broke.
func (s *S3) open(ctx context.Context, key string) (*resumingBody, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("getting %s: %w", s.uri(key), ErrNotExist)
		}
		return nil, fmt.Errorf("getting %s: %w", s.uri(key), err)
	}
	return &resumingBody{ctx: ctx, s: s, key: k, uri: s.uri(key), body: out.Body,
		etag: aws.ToString(out.ETag), size: aws.ToInt64(out.ContentLength)}, nil
}

// maxResumes bounds how often one object's body is asked for again after
// its connection broke.
const maxResumes = awscfg.MaxAttempts - 1

// resumingBody is an object's body that survives a connection breaking
// while it streams (the SDK retries a request, not a body read later): it
// asks for the rest, from the first byte not yet read, with a Range and
// If-Match on the ETag (so the bytes are of the same version), after a
// backoff with jitter, up to maxResumes times.
type resumingBody struct {
	ctx      context.Context
	s        *S3
	key, uri string
	body     io.ReadCloser
	etag     string
	size     int64 // -1 or 0 when unknown
	read     int64
	resumes  int
	pending  error // a read error held back while its bytes were returned
}

func (b *resumingBody) Read(p []byte) (int, error) {
	for {
		var n int
		var err error
		if b.pending != nil {
			err, b.pending = b.pending, nil
		} else {
			n, err = b.body.Read(p)
			b.read += int64(n)
		}
		if err == io.EOF && b.size > 0 && b.read < b.size {
			err = io.ErrUnexpectedEOF // the connection ended before the object did
		}
		if err == nil || err == io.EOF {
			return n, err
		}
		if n > 0 {
			b.pending = err
			return n, nil
		}
		if b.ctx.Err() != nil || b.resumes >= maxResumes {
			return 0, fmt.Errorf("reading %s at byte %d (read again %d times): %w", b.uri, b.read, b.resumes, err)
		}
		if rerr := b.resume(err); rerr != nil {
			return 0, rerr
		}
	}
}

// resume replaces the broken body by the rest of the object.
func (b *resumingBody) resume(cause error) error {
	b.body.Close()
	b.resumes++
	t := time.NewTimer(awscfg.Backoff(b.resumes, awscfg.RetryBase, awscfg.RetryMaxBackoff))
	select {
	case <-t.C:
	case <-b.ctx.Done():
		t.Stop()
		return fmt.Errorf("reading %s at byte %d: %w (after %v)", b.uri, b.read, b.ctx.Err(), cause)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(b.s.bucket), Key: aws.String(b.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-", b.read))}
	if b.etag != "" {
		in.IfMatch = aws.String(b.etag)
	}
	out, err := b.s.client.GetObject(b.ctx, in)
	if err != nil {
		b.body = io.NopCloser(strings.NewReader(""))
		return fmt.Errorf("reading %s again from byte %d after %v: %w", b.uri, b.read, cause, err)
	}
	b.body = out.Body
	return nil
}

func (b *resumingBody) Close() error { return b.body.Close() }

// isNotFound reports whether err says the object does not exist. A missing
// bucket is not that: it is a configuration error and stays one.
func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	if errors.As(err, &nsk) {
		return true
	}
	var nf *types.NotFound
	if errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return true
		case "NoSuchBucket":
			return false
		}
	}
	var re *smithyhttp.ResponseError
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound && (ae == nil || ae.ErrorCode() == "")
}

func (s *S3) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", s.uri(prefix), err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			if strings.HasSuffix(key, "/") {
				continue // a "folder" marker made by a console, not an object
			}
			info := ObjectInfo{Key: key, Size: aws.ToInt64(o.Size), ETag: strings.Trim(aws.ToString(o.ETag), `"`)}
			if o.LastModified != nil {
				info.ModTime = o.LastModified.UTC()
			}
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.objectKey(key)
	if err != nil {
		return err
	}
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(k)}); err != nil {
		if isNotFound(err) {
			return nil
		}
		return fmt.Errorf("deleting %s: %w", s.uri(key), err)
	}
	return nil
}
