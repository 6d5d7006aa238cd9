package awscfg

import (
	"errors"
	"io"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retries of every AWS call. A transient error (throttling such as S3's
// SlowDown, a 5xx reply, a dropped connection, a reply cut off before its
// end) is retried up to MaxAttempts calls in all, after a delay drawn at
// random (full jitter) below a cap that doubles from RetryBase to
// RetryMaxBackoff. A permanent error (access denied, no such bucket or
// stream, a bad request) is not retried: the call fails at once.
const (
	MaxAttempts     = 8
	RetryBase       = 50 * time.Millisecond
	RetryMaxBackoff = 2 * time.Second
)

// NewRetryer is the retryer of every client Load configures: the SDK's
// standard retryer with the attempts and backoff above, a reply cut off
// half-way counted as transient, and no retry quota (the SDK's default
// token bucket would stop retrying every call of a long run once a burst
// of faults had spent it).
func NewRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = MaxAttempts
		o.MaxBackoff = RetryMaxBackoff
		o.Backoff = jitterBackoff{}
		o.RateLimiter = ratelimit.None
		o.Retryables = append(o.Retryables, retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return aws.TrueTernary
			}
			return aws.UnknownTernary
		}))
	})
}

// jitterBackoff is full jitter over RetryBase·2^(attempt-1), capped at
// RetryMaxBackoff.
type jitterBackoff struct{}

func (jitterBackoff) BackoffDelay(attempt int, _ error) (time.Duration, error) {
	return Backoff(attempt, RetryBase, RetryMaxBackoff), nil
}

// Backoff is the delay before retry attempt (1, 2, …): a random duration
// in [0, min(limit, base·2^(attempt-1))].
func Backoff(attempt int, base, limit time.Duration) time.Duration {
	d := base << min(max(attempt-1, 0), 30)
	if d > limit || d <= 0 {
		d = limit
	}
	return rand.N(d + 1)
}
