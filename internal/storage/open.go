package storage

import (
	"context"
	"fmt"
	"strings"

	"github.com/lambdastack/lambdastack/internal/awscfg"
)

// Open returns the store for a location: s3://bucket/prefix opens an S3
// store with the standard AWS configuration (awscfg.Load), anything else is
// a local directory (created if needed; a file:// prefix is allowed).
// Callers that already hold an AWS configuration use OpenWith.
func Open(ctx context.Context, loc string) (Store, error) {
	if !strings.HasPrefix(loc, "s3://") {
		return OpenWith(ctx, loc, nil)
	}
	cfg, err := awscfg.Load(ctx, awscfg.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", loc, err)
	}
	return OpenWith(ctx, loc, &cfg)
}

// OpenWith is Open with a given AWS configuration for s3:// locations.
func OpenWith(_ context.Context, loc string, cfg *awscfg.Config) (Store, error) {
	if loc == "" {
		return nil, fmt.Errorf("opening store: empty location")
	}
	if strings.HasPrefix(loc, "s3://") {
		bucket, prefix, err := ParseS3URI(loc)
		if err != nil {
			return nil, err
		}
		if cfg == nil {
			return nil, fmt.Errorf("opening %s: no AWS configuration", loc)
		}
		return NewS3(cfg.S3(), bucket, prefix), nil
	}
	if i := strings.Index(loc, "://"); i >= 0 && !strings.HasPrefix(loc, "file://") {
		return nil, fmt.Errorf("opening %s: unsupported scheme %q (want a directory or s3://bucket/prefix)", loc, loc[:i])
	}
	dir := strings.TrimPrefix(loc, "file://")
	s, err := NewLocal(dir)
	if err != nil {
		return nil, err
	}
	return s, nil
}
