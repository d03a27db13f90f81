package assume

import (
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

// NewRetryer returns a new retryer for each client (config.WithRetryer calls
// it once per client). It has no retry token bucket: the SDK's shared bucket
// fails hundreds of concurrent callers with "retry quota exceeded" under a
// throttling storm, turning a slowdown into lost rows.
func NewRetryer() aws.Retryer {
	std := retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxThrottledAttempts
		o.RateLimiter = ratelimit.None
		o.Backoff = backoff{}
	})
	return &boundedRetryer{RetryerV2: std}
}

// boundedRetryer caps the attempts of non-throttling errors.
type boundedRetryer struct {
	aws.RetryerV2
}

func (r *boundedRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	if !isThrottle(err) && attempt >= maxOtherAttempts {
		// Returning the operation's error stops the retry loop with it.
		return 0, err
	}
	return r.RetryerV2.RetryDelay(attempt, err)
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
