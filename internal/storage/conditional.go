package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// ErrConflict is returned (wrapped) by PutIf when the object is no longer
// the version the caller read: another writer got there first.
var ErrConflict = errors.New("object changed since it was read")

// Versioned is a Store that reads an object with its version and replaces
// it only if that version is still current: compare-and-swap on one key.
// Both stores implement it; the manifest commit (Commit) needs it.
type Versioned interface {
	Store
	// GetVersion returns a whole object and its version. A missing object
	// returns an error wrapping ErrNotExist.
	GetVersion(ctx context.Context, key string) (data []byte, version string, err error)
	// PutIf writes data at key only if the object's version is still
	// version; version "" means only if the object does not exist. It
	// returns the new version, or an error wrapping ErrConflict.
	PutIf(ctx context.Context, key string, data []byte, version string) (string, error)
}

// GetVersion reads the object with its ETag. A body cut off while it
// streams is read on from where it broke, of the same version (If-Match
// on the ETag), as Get's is.
func (s *S3) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	b, err := s.open(ctx, key)
	if err != nil {
		return nil, "", err
	}
	data, err := io.ReadAll(b)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, "", err // it names the object and the byte it broke at
	}
	return data, b.etag, nil
}

// PutIf is a conditional PutObject: If-Match on the version (an ETag), or
// If-None-Match: * when version is "". S3 answers 412 when the condition
// fails, 409 when another conditional write to the key is in flight and
// 404 when an If-Match object was deleted; all three mean another writer
// changed the key.
func (s *S3) PutIf(ctx context.Context, key string, data []byte, version string) (string, error) {
	k, err := s.objectKey(key)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(k),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	if version == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(version)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		if conditionFailed(err) {
			return "", fmt.Errorf("putting %s if unchanged: %w", s.uri(key), ErrConflict)
		}
		return "", fmt.Errorf("putting %s if unchanged: %w", s.uri(key), err)
	}
	return aws.ToString(out.ETag), nil
}

func conditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey":
			return true
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusPreconditionFailed, http.StatusConflict:
			return true
		}
	}
	return false
}

// localVersion is the version of a local object: a digest of its content,
// which changes whenever a writer replaces it with other bytes.
func localVersion(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:16])
}

// GetVersion reads the object and its content digest.
func (l *Local) GetVersion(ctx context.Context, key string) ([]byte, string, error) {
	data, err := ReadAll(ctx, l, key)
	if err != nil {
		return nil, "", err
	}
	return data, localVersion(data), nil
}

// lockPrefix starts the name of the lock file beside a conditionally
// written object; List skips such files.
const lockPrefix = ".lock-"

// PutIf holds an exclusive lock on a lock file beside the object while it
// compares the current content's digest with version and, if they match,
// replaces the object (Put: a temporary file renamed into place). The lock
// is an advisory flock(2): the kernel drops it when its holder exits, so a
// crashed writer leaves no stale lock behind, and nothing ever breaks a
// lock, so two writers are never inside at once. The lock file stays
// (removing it would let a waiter lock a file already unlinked).
func (l *Local) PutIf(ctx context.Context, key string, data []byte, version string) (string, error) {
	p, err := l.path(key)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("putting %s if unchanged: %w", p, err)
	}
	lockPath := filepath.Join(filepath.Dir(p), lockPrefix+filepath.Base(p))
	unlock, err := lockFile(lockPath)
	if err != nil {
		return "", fmt.Errorf("putting %s if unchanged: locking %s: %w", p, lockPath, err)
	}
	defer unlock()
	cur, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if version != "" {
			return "", fmt.Errorf("putting %s if unchanged: it was removed: %w", p, ErrConflict)
		}
	case err != nil:
		return "", fmt.Errorf("putting %s if unchanged: %w", p, err)
	case version == "" || localVersion(cur) != version:
		return "", fmt.Errorf("putting %s if unchanged: %w", p, ErrConflict)
	}
	if err := l.Put(ctx, key, data); err != nil {
		return "", err
	}
	return localVersion(data), nil
}

// skipListed reports whether a file name in a local store is bookkeeping,
// not an object: temporary files of Put and lock files of PutIf.
func skipListed(name string) bool {
	return strings.HasPrefix(name, ".tmp-") || strings.HasPrefix(name, lockPrefix)
}
