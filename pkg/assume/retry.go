package assume

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// Retry budget. Throttling is normal at organization scale and must cost
// time, never a row: a throttled call is retried until the account's
// context ends. Other retryable failures (5xx, dropped connections) get a
// bounded number of attempts so that a broken account fails in seconds.
const (
	maxThrottledAttempts = 1000
	maxOtherAttempts     = 5
	throttleBaseDelay    = 100 * time.Millisecond
	otherBaseDelay       = 50 * time.Millisecond
	maxBackoff           = 5 * time.Second
)

// newRetryer returns a new retryer for each client (config.WithRetryer calls
// it once per client). It has no retry token bucket: the SDK's shared bucket
// fails hundreds of concurrent callers with "retry quota exceeded" under a
// throttling storm, turning a slowdown into lost rows.
func newRetryer() aws.Retryer {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxThrottledAttempts
		o.RateLimiter = ratelimit.None
		o.Backoff = backoff{}
	})
	return &boundedRetryer{RetryerV2: std}
}

// newPacedRetryer is newRetryer for a client whose quota is per calling
// account (STS, Organizations): once throttled, its attempts share one
// paced schedule (see pacer). IAM's quota is per target account, so its
// client keeps newRetryer: one account's throttles must not slow the others.
func newPacedRetryer() aws.Retryer {
	r := newRetryer().(*boundedRetryer)
	r.pace = newPacer(time.Now)
	return r
}

// boundedRetryer caps the attempts of non-throttling errors.
type boundedRetryer struct {
	aws.RetryerV2
	pace *pacer // nil: every caller backs off on its own
}

func (r *boundedRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !isThrottle(err) && attempt >= maxOtherAttempts {
		// Returning the operation's error stops the retry loop with it.
		return 0, err
	}
	if r.pace != nil && isThrottle(err) && r.pace.paced() {
		// The schedule spaces the retry; a backoff on top would idle the quota.
		return 0, nil
	}
	return r.RetryerV2.RetryDelay(attempt, err)
}

// GetAttemptToken waits for the attempt's slot when the client is paced.
func (r *boundedRetryer) GetAttemptToken(ctx context.Context) (func(error) error, error) {
	if r.pace == nil {
		return r.RetryerV2.GetAttemptToken(ctx)
	}
	if err := r.pace.wait(ctx); err != nil {
		return nil, err
	}
	release, err := r.RetryerV2.GetAttemptToken(ctx)
	if err != nil {
		return nil, err
	}
	return func(opErr error) error {
		switch {
		case opErr == nil:
			r.pace.done(false)
		case isThrottle(opErr):
			r.pace.done(true)
		}
		return release(opErr)
	}, nil
}

func isThrottle(err error) bool {
	for _, t := range retry.DefaultThrottles {
		if t.IsErrorThrottle(err) == aws.TrueTernary {
			return true
		}
	}
	return false
}

// backoff is exponential with "equal jitter": half the window fixed, half
// random. Full jitter lets many throttled callers retry almost at once, which
// re-throttles them; a fixed floor spreads them out.
type backoff struct{}

func (backoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	base := otherBaseDelay
	if isThrottle(err) {
		base = throttleBaseDelay
	}
	window := base << min(max(attempt-1, 0), 10)
	window = min(window, maxBackoff)
	return window/2 + time.Duration(rand.Int64N(int64(window/2)+1)), nil
}
