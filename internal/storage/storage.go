package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) by Get when the key does not exist.
var ErrNotExist = errors.New("object does not exist")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time,omitzero"`
	// ETag identifies the content version where the backend has one (S3);
	// the local store uses size and modification time instead.
	ETag string `json:"etag,omitempty"`
}

// Store is the object storage the pipeline needs. Keys are relative to the
// store's location and use '/' as separator. Implementations are safe for
// concurrent use. Put replaces an object atomically: readers see the old
// content or the new, never a part.
type Store interface {
	Put(ctx context.Context, key string, data []byte) error
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Location is the location string the store was opened with.
	Location() string
}

// Copier is a store that copies an object to another key without its
// bytes passing through the caller (a hard link in a directory, a
// server-side copy in S3). The source stays; the copy replaces what was at
// the destination at once, as Put does. A missing source is an error
// wrapping ErrNotExist.
type Copier interface {
	Copy(ctx context.Context, from, to string) error
}

// ReadAll gets a whole object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	// Read into a buffer of the object's size where the body knows it
	// (growing one by doubling copies a large object about twice).
	var buf bytes.Buffer
	if n := bodySize(rc); n > 0 && n < 1<<31 {
		buf.Grow(int(n) + bytes.MinRead)
	}
	_, err = buf.ReadFrom(rc)
	data := buf.Bytes()
	if data == nil {
		data = []byte{} // an empty object: empty, not nil (as io.ReadAll gives)
	}
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", Join(s.Location(), key), err)
	}
	return data, nil
}

// bodySize is the length of an object's body when it is known: a local
// file's size, an S3 body's Content-Length. 0 when unknown.
func bodySize(rc io.ReadCloser) int64 {
	switch b := rc.(type) {
	case *os.File:
		if fi, err := b.Stat(); err == nil {
			return fi.Size()
		}
	case *resumingBody:
		return b.size
	}
	return 0
}

// Join joins a location and a key for messages and URIs.
func Join(loc, key string) string {
	if loc == "" {
		return key
	}
	return strings.TrimSuffix(loc, "/") + "/" + strings.TrimPrefix(key, "/")
}

// Manifest records a published set of objects. Objects are written first and
// the manifest last, so a reader that goes through the manifest sees a whole
// set or the previous one, never part of a run.
type Manifest struct {
	// Run identifies the run that published this set.
	Run       string       `json:"run"`
	Published time.Time    `json:"published"`
	Objects   []ObjectInfo `json:"objects"`
	// Meta carries what the publisher needs to remember with the set
	// (a watermark, the inputs it was built from, …).
	Meta json.RawMessage `json:"meta,omitempty"`
	// Pending, while set, is a run's claimed commit whose objects are
	// still being moved into place (Commit); readers ignore it and keep
	// to the fields above until the run finishes.
	Pending *Pending `json:"pending,omitempty"`
}

// Publish writes m under key after the caller has written every object it
// names. It is the commit point of a run. It records each object's size as
// the store holds it, and an object the store does not hold is an error.
func Publish(ctx context.Context, s Store, key string, m Manifest) error {
	objs, err := describe(ctx, s, m.Objects)
	if err != nil {
		return fmt.Errorf("publishing manifest %s: %w", Join(s.Location(), key), err)
	}
	m.Objects = objs
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding manifest %s: %w", key, err)
	}
	if err := s.Put(ctx, key, append(data, '\n')); err != nil {
		return fmt.Errorf("publishing manifest %s: %w", Join(s.Location(), key), err)
	}
	return nil
}

// ReadManifest reads the manifest at key. A missing manifest returns an error
// wrapping ErrNotExist.
func ReadManifest(ctx context.Context, s Store, key string) (Manifest, error) {
	var m Manifest
	data, err := ReadAll(ctx, s, key)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decoding manifest %s: %w", Join(s.Location(), key), err)
	}
	return m, nil
}

// describe returns objs with their sizes as the store lists them (the rest
// as given, so a manifest stays the same bytes for the same objects). It
// lists each top-level prefix the keys fall under once (batch/, merged/,
// …), not each object.
func describe(ctx context.Context, s Store, objs []ObjectInfo) ([]ObjectInfo, error) {
	listed := map[string]map[string]ObjectInfo{}
	out := make([]ObjectInfo, len(objs))
	for i, o := range objs {
		top, _, _ := strings.Cut(o.Key, "/")
		if strings.Contains(o.Key, "/") {
			top += "/"
		}
		infos, ok := listed[top]
		if !ok {
			all, err := s.List(ctx, top)
			if err != nil {
				return nil, err
			}
			infos = make(map[string]ObjectInfo, len(all))
			for _, a := range all {
				infos[a.Key] = a
			}
			listed[top] = infos
		}
		info, ok := infos[o.Key]
		if !ok {
			return nil, fmt.Errorf("the manifest names %s, which the store does not hold", Join(s.Location(), o.Key))
		}
		out[i] = o
		out[i].Size = info.Size
	}
	return out, nil
}
