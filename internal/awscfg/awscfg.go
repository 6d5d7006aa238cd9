package awscfg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// DefaultRegion is used when an endpoint is set but no region is configured,
// so a local emulator works without any AWS configuration.
const DefaultRegion = "us-east-1"

// SDKLog receives the AWS SDK's own log lines (retries, credential and
// instance-metadata lookups); nil, the default, drops them. The command
// line sets it for --debug.
var SDKLog io.Writer

// ErrNoRegion is returned (wrapped) by Load when no region is configured
// and no endpoint is set.
var ErrNoRegion = errors.New("no AWS region configured: set one with `export AWS_REGION=us-east-1`, `aws configure set region us-east-1`, or `region = …` in the profile in ~/.aws/config")

// Options override parts of the standard configuration. Zero values leave
// the standard behaviour (environment, shared config files) alone.
type Options struct {
	// Profile selects a shared-config profile (like AWS_PROFILE).
	Profile string
	// Region overrides the configured region.
	Region string
	// Endpoint overrides AWS_ENDPOINT_URL for every service.
	Endpoint string
}

// Config is a loaded AWS configuration plus what lambdastack derived from it.
type Config struct {
	// AWS is the SDK configuration; pass it to any service's NewFromConfig.
	AWS aws.Config
	// Endpoint is the endpoint every service uses ("" for AWS itself).
	Endpoint string
	// Local reports whether Endpoint is on this machine (an emulator).
	Local bool
}

// Load reads the standard AWS configuration once. Call it in main (or in a
// test helper) and pass the Config or the clients it makes downwards.
func Load(ctx context.Context, o Options) (Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Endpoint != "" {
		opts = append(opts, config.WithBaseEndpoint(o.Endpoint))
	}
	if SDKLog == nil {
		opts = append(opts, config.WithLogger(logging.Nop{}))
	} else {
		opts = append(opts, config.WithLogger(logging.NewStandardLogger(SDKLog)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Config{}, fmt.Errorf("loading AWS configuration: %w", err)
	}
	c := Config{AWS: cfg}
	if cfg.BaseEndpoint != nil {
		c.Endpoint = *cfg.BaseEndpoint
	}
	if c.Endpoint == "" {
		if cfg.Region == "" {
			return Config{}, ErrNoRegion
		}
		return c, nil
	}
	c.Local = IsLocalEndpoint(c.Endpoint)
	if c.AWS.Region == "" {
		c.AWS.Region = DefaultRegion
	}
	if c.Local && o.Profile == "" && !credentialsConfigured(cfg) {
		// An emulator accepts any signature; without this the SDK would
		// go looking for EC2 instance credentials and time out.
		c.AWS.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", ""))
	}
	return c, nil
}

// credentialsConfigured reports whether the environment or the shared
// config files name any credential source; then the standard chain is left
// alone.
func credentialsConfigured(cfg aws.Config) bool {
	for _, src := range cfg.ConfigSources {
		switch s := src.(type) {
		case config.EnvConfig:
			if s.Credentials.HasKeys() || s.WebIdentityTokenFilePath != "" || s.SharedConfigProfile != "" ||
				s.ContainerCredentialsEndpoint != "" || s.ContainerCredentialsRelativePath != "" {
				return true
			}
		case config.SharedConfig:
			if s.Credentials.HasKeys() || s.RoleARN != "" || s.CredentialProcess != "" ||
				s.WebIdentityTokenFile != "" || s.SSOSessionName != "" || s.SSOStartURL != "" {
				return true
			}
		}
	}
	return false
}

// IsLocalEndpoint reports whether an endpoint URL points at this machine or
// at a host that cannot take virtual-hosted bucket names (an IP address or a
// single-label name such as a compose service "localstack").
func IsLocalEndpoint(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return true
	}
	return !strings.Contains(h, ".")
}

// S3 returns an S3 client; against a local endpoint it uses path-style
// addressing (bucket in the path, not the host name).
func (c Config) S3(optFns ...func(*s3.Options)) *s3.Client {
	local := c.Local
	return s3.NewFromConfig(c.AWS, append([]func(*s3.Options){func(o *s3.Options) {
		if local {
			o.UsePathStyle = true
		}
		// Emulators (moto, LocalStack) send no response checksums; the SDK
		// would log a DEBUG line for every GetObject otherwise.
		o.DisableLogOutputChecksumValidationSkipped = true
	}}, optFns...)...)
}

// Kinesis returns a Kinesis Data Streams client.
func (c Config) Kinesis(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(c.AWS, optFns...)
}

// Athena returns an Athena client.
func (c Config) Athena(optFns ...func(*athena.Options)) *athena.Client {
	return athena.NewFromConfig(c.AWS, optFns...)
}
