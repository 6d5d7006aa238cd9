package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The CDK CLI and moto agree only on this endpoint: the CLI's asset
// publishing needs a host name (not 127.0.0.1), and moto's CloudFormation
// must be reachable under the same URL from inside the deployment.
const (
	smokeEndpoint = "http://localhost:4566"
	smokeAddr     = "127.0.0.1:4566"
	smokeAccount  = "123456789012"
	smokeRegion   = "us-east-1"
)

// TestIntegrationDeploy bootstraps and deploys the stack to moto with the
// pinned CDK CLI, checks the buckets, stream, roles and functions exist,
// and destroys it. moto's CloudFormation skips Glue, Athena, Firehose,
// CloudWatch alarms, EventBridge Scheduler and QuickSight: the assertion
// tests cover those.
func TestIntegrationDeploy(t *testing.T) {
	root, err := moduleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	cdk := filepath.Join(root, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(cdk); err != nil {
		t.Fatalf("the CDK CLI is not installed (run npm ci at the repository root; make test does): %v", err)
	}
	ensureMoto(t)

	// Only emulator credentials and endpoints reach the CLI and the SDK.
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"AWS_ENDPOINT_URL":            smokeEndpoint,
		"AWS_ACCESS_KEY_ID":           "testing",
		"AWS_SECRET_ACCESS_KEY":       "testing",
		"AWS_REGION":                  smokeRegion,
		"AWS_DEFAULT_REGION":          smokeRegion,
		"AWS_CONFIG_FILE":             empty,
		"AWS_SHARED_CREDENTIALS_FILE": empty,
		"CDK_DEFAULT_ACCOUNT":         smokeAccount,
		"CDK_DEFAULT_REGION":          smokeRegion,
		// The CLI's AWS SDK warns that Node 20 support ends; only a warning.
		"AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED": "true",
	}
	for _, k := range []string{"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}

	stage := "smoke" + randomHex(t, 3)
	stackName := "lambdastack-" + stage
	assembly := filepath.Join(t.TempDir(), "cdk.out")
	outputs := filepath.Join(t.TempDir(), "outputs.json")
	run := func(args ...string) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(cdk, args...)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		t.Logf("cdk %s (%.1fs)\n%s", strings.Join(args, " "), time.Since(start).Seconds(), lastLines(string(out), 12))
		if err != nil {
			t.Fatalf("cdk %s: %v", args[0], err)
		}
	}
	// One synthesis; bootstrap, deploy and destroy reuse the cloud assembly.
	run("synth", "--quiet", "-o", assembly, "-c", "stage="+stage, "-c", "destroy=true")
	run("bootstrap", "--app", assembly, "aws://"+smokeAccount+"/"+smokeRegion)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			cmd := exec.Command(cdk, "destroy", "--force", "--app", assembly, stackName)
			cmd.Dir = root
			_ = cmd.Run()
		}
	})
	run("deploy", "--app", assembly, "--method=direct", "--require-approval", "never", "--outputs-file", outputs, stackName)

	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion(smokeRegion),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("testing", "testing", "")))
	if err != nil {
		t.Fatal(err)
	}
	out := readOutputs(t, outputs, stackName)

	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for _, key := range []string{"RawBucketName", "ViewsBucketName", "AthenaResultsBucketName"} {
		if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(out[key])}); err != nil {
			t.Errorf("bucket %s (%s): %v", key, out[key], err)
		}
	}
	// moto's CloudFormation drops the stream's encryption and the functions'
	// architecture: the assertion tests check those properties.
	if _, err := kinesis.NewFromConfig(cfg).DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(out["StreamName"])}); err != nil {
		t.Errorf("stream %s: %v", out["StreamName"], err)
	}

	res := stackResources(ctx, t, cloudformation.NewFromConfig(cfg), stackName)
	iamc, lam := iam.NewFromConfig(cfg), lambda.NewFromConfig(cfg)
	// One role per function, plus Firehose's, the workflow's and its
	// schedule's.
	if n, want := len(res["AWS::IAM::Role"]), len(LambdaEntries)+3; n != want {
		t.Errorf("%d roles deployed, want %d", n, want)
	}
	for _, name := range res["AWS::IAM::Role"] {
		if _, err := iamc.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)}); err != nil {
			t.Errorf("role %s: %v", name, err)
		}
	}
	if n := len(res["AWS::Lambda::Function"]); n != len(LambdaEntries) {
		t.Errorf("%d functions deployed, want one per entry point %v", n, LambdaEntries)
	}
	for _, name := range res["AWS::Lambda::Function"] {
		f, err := lam.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Errorf("function %s: %v", name, err)
			continue
		}
		if c := f.Configuration; string(c.Runtime) != "provided.al2023" || aws.ToString(c.Handler) != "bootstrap" {
			t.Errorf("function %s: runtime %s handler %s", name, c.Runtime, aws.ToString(c.Handler))
		}
	}
	if len(res["AWS::Lambda::EventSourceMapping"]) != 1 {
		t.Errorf("%d event source mappings, want the speed function's one", len(res["AWS::Lambda::EventSourceMapping"]))
	}
	if len(res["AWS::StepFunctions::StateMachine"]) != 1 || len(res["AWS::DynamoDB::Table"]) != 1 {
		t.Errorf("%d state machines and %d tables, want the workflow and its lock table",
			len(res["AWS::StepFunctions::StateMachine"]), len(res["AWS::DynamoDB::Table"]))
	}
	for _, name := range res["AWS::DynamoDB::Table"] {
		if _, err := dynamodb.NewFromConfig(cfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("lock table %s: %v", name, err)
		}
	}
	t.Logf("deployed %s: %d buckets, stream %s, %d roles, %d functions",
		stackName, len(res["AWS::S3::Bucket"]), out["StreamName"], len(res["AWS::IAM::Role"]), len(res["AWS::Lambda::Function"]))

	run("destroy", "--force", "--app", assembly, stackName)
	destroyed = true
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(out["RawBucketName"])}); err == nil {
		t.Errorf("bucket %s still exists after cdk destroy", out["RawBucketName"])
	}
}

// ensureMoto starts moto_server on 127.0.0.1:4566 unless something answers
// there already, and stops it when the test ends.
func ensureMoto(t *testing.T) {
	t.Helper()
	if conn, err := net.DialTimeout("tcp", smokeAddr, time.Second); err == nil {
		conn.Close()
		t.Logf("using the AWS emulator already listening on %s", smokeEndpoint)
		return
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		t.Fatalf("nothing listens on %s and moto_server is not installed: %v", smokeAddr, err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", "4566")
	logf, err := os.Create(filepath.Join(t.TempDir(), "moto.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(smokeEndpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			t.Logf("started moto_server on %s", smokeEndpoint)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("moto_server did not answer on %s within 30s: %v", smokeEndpoint, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func readOutputs(t *testing.T, path, stack string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the deploy outputs: %v", err)
	}
	var all map[string]map[string]string
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatalf("decoding the deploy outputs: %v", err)
	}
	out, ok := all[stack]
	if !ok {
		t.Fatalf("no outputs for %s in %s", stack, b)
	}
	return out
}

// stackResources lists the stack's physical ids by resource type.
func stackResources(ctx context.Context, t *testing.T, cf *cloudformation.Client, stack string) map[string][]string {
	t.Helper()
	res := map[string][]string{}
	p := cloudformation.NewListStackResourcesPaginator(cf, &cloudformation.ListStackResourcesInput{StackName: aws.String(stack)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing the resources of %s: %v", stack, err)
		}
		for _, r := range page.StackResourceSummaries {
			typ := aws.ToString(r.ResourceType)
			res[typ] = append(res[typ], aws.ToString(r.PhysicalResourceId))
		}
	}
	return res
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func lastLines(s string, n int) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		// Node's end-of-life banners say nothing about the deployment.
		if strings.HasPrefix(l, "!!") || strings.Contains(l, "NodeVersionSupportWarning") || strings.Contains(l, "nodedir") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
