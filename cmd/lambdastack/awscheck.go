package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/storage"
)

// openStore opens a location as storage.Open does; for s3:// it first
// resolves the credentials, so none fails in one line within
// awscfg.CheckTimeout instead of on the first request.
func openStore(ctx context.Context, loc string) (storage.Store, error) {
	if !strings.HasPrefix(loc, "s3://") {
		return storage.Open(ctx, loc)
	}
	cfg, err := awscfg.Load(ctx, awscfg.Options{})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", loc, err)
	}
	if err := cfg.CheckCredentials(ctx); err != nil {
		return nil, fmt.Errorf("opening %s: %w", loc, err)
	}
	return storage.OpenWith(ctx, loc, &cfg)
}

// checkStream fails fast, in one line, on what no retry can fix before a
// command starts writing to or reading from a Kinesis stream: no
// credentials, no such stream, access denied. It makes one request, with
// the SDK's retries off, within awscfg.CheckTimeout.
func checkStream(ctx context.Context, cfg awscfg.Config, stream string) error {
	if err := cfg.CheckCredentials(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, awscfg.CheckTimeout)
	defer cancel()
	_, err := cfg.Kinesis().DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &stream},
		func(o *kinesis.Options) { o.RetryMaxAttempts = 1 })
	if err == nil {
		return nil
	}
	var notFound *types.ResourceNotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("no Kinesis stream %q in region %s: create it, or deploy the stack and use its stream name", stream, cfg.AWS.Region)
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return fmt.Errorf("checking Kinesis stream %q in region %s: %s: %s", stream, cfg.AWS.Region, api.ErrorCode(), api.ErrorMessage())
	}
	if ctx.Err() != nil {
		return fmt.Errorf("checking Kinesis stream %q in region %s: no answer within %s (endpoint %s)", stream, cfg.AWS.Region, awscfg.CheckTimeout, endpointName(cfg))
	}
	return fmt.Errorf("checking Kinesis stream %q in region %s: %w", stream, cfg.AWS.Region, err)
}

func endpointName(cfg awscfg.Config) string {
	if cfg.Endpoint != "" {
		return cfg.Endpoint
	}
	return "AWS"
}
