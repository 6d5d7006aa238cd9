package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/awscfg"
)

// MotoInstall says how to get the emulator this harness starts.
const MotoInstall = `pip install "moto[server]==5.2.1"`

// startTimeout bounds how long moto_server may take to answer.
const startTimeout = 30 * time.Second

var (
	mainCalled bool

	once     sync.Once
	endpoint string
	setupErr error // why no emulator is available
	server   *exec.Cmd
	logPath  string
)

// Main runs the package's tests and then stops the emulator this package
// started, if any. Call it from TestMain.
func Main(m *testing.M) {
	mainCalled = true
	code := m.Run()
	stop()
	os.Exit(code)
}

// InCI reports whether the tests run in CI (CI=true), where emulator tests
// must fail rather than skip.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Endpoint returns the URL of an AWS emulator for this test binary, starting
// moto_server the first time when AWS_ENDPOINT_URL is not set. After it the
// process environment has AWS_ENDPOINT_URL, a region and dummy credentials
// (unless already set), so awscfg.Load finds the emulator.
func Endpoint(t testing.TB) string {
	t.Helper()
	if !mainCalled {
		t.Fatal("testenv: the package must call testenv.Main(m) from TestMain so the emulator is stopped")
	}
	once.Do(setup)
	if setupErr != nil {
		if InCI() {
			t.Fatalf("testenv: no AWS emulator (CI=true, so this fails instead of skipping): %v", setupErr)
		}
		t.Skipf("testenv: skipping, no AWS emulator: %v", setupErr)
	}
	return endpoint
}

// Config returns the AWS configuration for the emulator (see Endpoint).
func Config(t testing.TB) awscfg.Config {
	t.Helper()
	ep := Endpoint(t)
	c, err := awscfg.Load(context.Background(), awscfg.Options{Endpoint: ep})
	if err != nil {
		t.Fatalf("testenv: loading AWS configuration for %s: %v", ep, err)
	}
	return c
}

func setup() {
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		endpoint = ep
		setDefaultEnv()
		if err := waitReady(ep, 5*time.Second, nil); err != nil {
			setupErr = fmt.Errorf("AWS_ENDPOINT_URL=%s does not answer: %w", ep, err)
		}
		return
	}
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		setupErr = fmt.Errorf("AWS_ENDPOINT_URL is not set and moto_server is not on PATH (install: %s)", MotoInstall)
		return
	}
	ep, err := startMoto(bin)
	if err != nil {
		setupErr = err
		return
	}
	endpoint = ep
	os.Setenv("AWS_ENDPOINT_URL", ep)
	// Our own emulator: never let real credentials from the environment
	// near it (or near AWS, should some client miss the endpoint).
	os.Setenv("AWS_ACCESS_KEY_ID", "test")
	os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	os.Unsetenv("AWS_SESSION_TOKEN")
	os.Unsetenv("AWS_PROFILE")
	setDefaultEnv()
}

// setDefaultEnv gives the process a region and dummy credentials when it
// has none, and keeps the SDK from asking EC2 instance metadata.
func setDefaultEnv() {
	if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		os.Setenv("AWS_REGION", awscfg.DefaultRegion)
	}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		os.Setenv("AWS_ACCESS_KEY_ID", "test")
		os.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	}
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func startMoto(bin string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", fmt.Errorf("finding a free port for moto_server: %w", err)
	}
	logf, err := os.CreateTemp("", "lambdastack-moto-*.log")
	if err != nil {
		return "", fmt.Errorf("creating moto_server log: %w", err)
	}
	logPath = logf.Name()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group, so stop can end moto and anything it forks; and
	// the kernel ends it if this test binary dies without running stop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	logf.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	server = cmd
	ep := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitReady(ep, startTimeout, exited); err != nil {
		stop()
		return "", fmt.Errorf("moto_server on %s: %w; log tail: %s", ep, err, logTail())
	}
	return ep, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady polls ep until it answers any HTTP response, the process exits
// or the timeout passes.
func waitReady(ep string, timeout time.Duration, exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(ep + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited before answering: %v", werr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer after %s: %w", timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stop() {
	if server == nil || server.Process == nil {
		return
	}
	// Negative pid: the whole process group.
	syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			if err := syscall.Kill(server.Process.Pid, 0); errors.Is(err, syscall.ESRCH) {
				close(done)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
	}
	server = nil
	if logPath != "" {
		os.Remove(logPath)
	}
}

func logTail() string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return "(no log)"
	}
	if len(data) > 2000 {
		data = data[len(data)-2000:]
	}
	return strings.TrimSpace(string(data))
}

// Name returns a name unique to this test and run, usable as an S3 bucket
// or Kinesis stream name: lowercase letters, digits and hyphens, at most
// 63 characters, starting with prefix (which should be short).
func Name(t testing.TB, prefix string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testenv: random name: %v", err)
	}
	var sb strings.Builder
	for _, r := range strings.ToLower(filepath.Base(t.Name())) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		default:
			if s := sb.String(); s != "" && s[len(s)-1] != '-' {
				sb.WriteByte('-')
			}
		}
	}
	mid := strings.Trim(sb.String(), "-")
	mid = strings.TrimPrefix(mid, "testintegration")
	mid = strings.Trim(mid, "-")
	suffix := hex.EncodeToString(b[:])
	if max := 63 - len(prefix) - len(suffix) - 2; len(mid) > max {
		mid = strings.Trim(mid[:max], "-")
	}
	if mid == "" {
		return prefix + "-" + suffix
	}
	return prefix + "-" + mid + "-" + suffix
}
