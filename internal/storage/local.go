package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// Local is a Store in a directory of the local file system.
type Local struct {
	dir string
}

// NewLocal returns a store rooted at dir, creating it if needed.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating store directory %s: %w", dir, err)
	}
	return &Local{dir: dir}, nil
}

func (l *Local) Location() string { return l.dir }

func (l *Local) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if key == "" || strings.HasSuffix(key, "/") || clean == "/" {
		return "", fmt.Errorf("invalid object key %q", key)
	}
	return filepath.Join(l.dir, filepath.FromSlash(clean[1:])), nil
}

// Put writes to a temporary file in the same directory and renames it, so a
// reader never sees a partly written object.
func (l *Local) Put(ctx context.Context, key string, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("putting %s: %w", p, err)
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return fmt.Errorf("putting %s: %w", p, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("putting %s: %w", p, err)
	}
	return nil
}

// Copy hard-links from under a temporary name beside to and renames that
// over to: no bytes are copied, and a reader sees the old object or the
// new. Where the file system refuses the link, it reads and writes.
func (l *Local) Copy(ctx context.Context, from, to string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	src, err := l.path(from)
	if err != nil {
		return err
	}
	dst, err := l.path(to)
	if err != nil {
		return err
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copying %s: %w", src, ErrNotExist)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-"+filepath.Base(dst)+"-"+strconv.FormatUint(tempSeq.Add(1), 10)+"-"+strconv.Itoa(os.Getpid()))
	if err := os.Link(src, tmp); err != nil {
		data, rerr := ReadAll(ctx, l, from)
		if rerr != nil {
			return fmt.Errorf("copying %s: %w", src, rerr)
		}
		return l.Put(ctx, to, data)
	}
	err = os.Rename(tmp, dst)
	// Where dst already is a link to src (a claim finished twice), rename
	// leaves both names: the temporary one goes either way.
	os.Remove(tmp)
	if err != nil {
		return fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return nil
}

// tempSeq numbers Copy's temporary names within the process.
var tempSeq atomic.Uint64

func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("getting %s: %w", p, ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("getting %s: %w", p, err)
	}
	return f, nil
}

func (l *Local) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Walk only the deepest directory the prefix names.
	start := l.dir
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(l.dir, filepath.FromSlash(path.Clean("/" + prefix[:i])[1:]))
	}
	var out []ObjectInfo
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || skipListed(d.Name()) {
			return nil
		}
		rel, err := filepath.Rel(l.dir, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while listing
			}
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: info.Size(), ModTime: info.ModTime().UTC()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", Join(l.dir, prefix), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s: %w", p, err)
	}
	return nil
}
