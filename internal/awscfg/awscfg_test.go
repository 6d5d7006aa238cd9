package awscfg_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go/logging"

	"github.com/lambdastack/lambdastack/internal/awscfg"
	"github.com/lambdastack/lambdastack/internal/testenv"
)

func TestIsLocalEndpoint(t *testing.T) {
	for _, tc := range []struct {
		endpoint string
		want     bool
	}{
		{"http://localhost:4566", true},
		{"http://127.0.0.1:5000", true},
		{"http://[::1]:5000", true},
		{"http://s3.localhost.localstack.cloud:4566", false},
		{"http://localstack:4566", true},
		{"http://10.0.0.7:9000", true},
		{"https://s3.eu-west-1.amazonaws.com", false},
		{"not a url", false},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			if got := awscfg.IsLocalEndpoint(tc.endpoint); got != tc.want {
				t.Errorf("IsLocalEndpoint(%q) = %v, want %v", tc.endpoint, got, tc.want)
			}
		})
	}
}

// isolate makes the standard chain see no AWS configuration at all, with
// the instance-metadata lookup off.
func isolate(t *testing.T) {
	t.Helper()
	testenv.NoAWSConfig(t)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestLoadLocalEndpointWithoutConfig(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	ctx := context.Background()
	c, err := awscfg.Load(ctx, awscfg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "http://127.0.0.1:4566" || !c.Local {
		t.Errorf("Endpoint, Local = %q, %v; want the env endpoint, local", c.Endpoint, c.Local)
	}
	if c.AWS.Region != awscfg.DefaultRegion {
		t.Errorf("Region = %q, want %q", c.AWS.Region, awscfg.DefaultRegion)
	}
	creds, err := c.AWS.Credentials.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		t.Errorf("credentials for a local endpoint: %+v, %v; want dummy keys", creds, err)
	}
	if !c.S3().Options().UsePathStyle {
		t.Error("S3 client against a local endpoint does not use path-style addressing")
	}
}

func TestLoadKeepsConfiguredRegionAndCredentials(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	c, err := awscfg.Load(context.Background(), awscfg.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.AWS.Region != "eu-west-1" {
		t.Errorf("Region = %q, want eu-west-1", c.AWS.Region)
	}
	creds, err := c.AWS.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" {
		t.Errorf("credentials = %+v, %v; want the configured ones", creds, err)
	}
}

func TestLoadWithoutEndpointIsAWS(t *testing.T) {
	isolate(t)
	c, err := awscfg.Load(context.Background(), awscfg.Options{Region: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "" || c.Local {
		t.Errorf("Endpoint, Local = %q, %v; want none", c.Endpoint, c.Local)
	}
	if c.S3().Options().UsePathStyle {
		t.Error("S3 client against AWS uses path-style addressing")
	}
	if c.AWS.Region != "us-west-2" {
		t.Errorf("Region = %q, want the option's us-west-2", c.AWS.Region)
	}
}

func TestLoadOptionEndpointOverridesEnv(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
	c, err := awscfg.Load(context.Background(), awscfg.Options{Endpoint: "http://127.0.0.1:5000"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != "http://127.0.0.1:5000" {
		t.Errorf("Endpoint = %q, want the option's", c.Endpoint)
	}
}

// A profile in the shared files keeps its own credentials and region even
// against a local endpoint; a config file with only a region gets dummy
// credentials.
func TestLoadSharedFiles(t *testing.T) {
	for _, tc := range []struct {
		name, config, credentials string
		wantKey, wantRegion       string
	}{
		{"keys in credentials file", "[default]\nregion = eu-central-1\n",
			"[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = s\n", "AKIDFILE", "eu-central-1"},
		{"region only", "[default]\nregion = ap-south-1\n", "", "test", "ap-south-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			dir := t.TempDir()
			cfgFile, credFile := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
			if err := os.WriteFile(cfgFile, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(credFile, []byte(tc.credentials), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Setenv("AWS_CONFIG_FILE", cfgFile)
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", credFile)
			t.Setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
			c, err := awscfg.Load(context.Background(), awscfg.Options{})
			if err != nil {
				t.Fatal(err)
			}
			creds, err := c.AWS.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != tc.wantKey || c.AWS.Region != tc.wantRegion {
				t.Errorf("key %q (%v), region %q; want %q, %q", creds.AccessKeyID, err, c.AWS.Region, tc.wantKey, tc.wantRegion)
			}
		})
	}
}

// Without an endpoint, no region is an error that says how to set one.
func TestLoadWithoutRegion(t *testing.T) {
	isolate(t)
	_, err := awscfg.Load(context.Background(), awscfg.Options{})
	if !errors.Is(err, awscfg.ErrNoRegion) || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Fatalf("Load without a region: %v, want ErrNoRegion naming AWS_REGION", err)
	}
	if _, err := awscfg.Load(context.Background(), awscfg.Options{Region: "eu-west-1"}); err != nil {
		t.Fatalf("Load with a region: %v", err)
	}
}

// No credentials anywhere fails once, quickly, in one line — including the
// instance-metadata lookup, which is left on here.
func TestCheckCredentialsFailsFast(t *testing.T) {
	testenv.NoAWSConfig(t) // metadata lookup on, nothing answers
	c, err := awscfg.Load(context.Background(), awscfg.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = c.CheckCredentials(context.Background())
	// Room for a loaded machine; a lookup that outlives its timeout fails.
	if took := time.Since(start); took > awscfg.CheckTimeout+3*time.Second {
		t.Errorf("CheckCredentials took %s, want at most %s", took, awscfg.CheckTimeout)
	}
	if !errors.Is(err, awscfg.ErrNoCredentials) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("CheckCredentials without credentials: %q, want ErrNoCredentials on one line", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	if c, err = awscfg.Load(context.Background(), awscfg.Options{Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Errorf("CheckCredentials with keys in the environment: %v", err)
	}
}

// The SDK's own log lines are dropped unless SDKLog is set (--debug).
func TestSDKLogOffByDefault(t *testing.T) {
	isolate(t)
	c, err := awscfg.Load(context.Background(), awscfg.Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.AWS.Logger.(logging.Nop); !ok {
		t.Errorf("SDK logger without SDKLog is %T, want logging.Nop", c.AWS.Logger)
	}
	var buf strings.Builder
	awscfg.SDKLog = &buf
	defer func() { awscfg.SDKLog = nil }()
	if c, err = awscfg.Load(context.Background(), awscfg.Options{Region: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	c.AWS.Logger.Logf(logging.Warn, "falling back to IMDSv1")
	if got := buf.String(); strings.Count(got, "falling back") != 1 {
		t.Errorf("SDK log with SDKLog set: %q, want the one line logged after setting it", got)
	}
}
