package wait_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/internal/wait"
)

func TestSleep(t *testing.T) {
	if err := wait.Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("a short sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := wait.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("a sleep on a cancelled context: %v, want context.Canceled at once", err)
	}
}
