// Package quota is AWS-style request quotas: a token bucket per service and
// account, refilled in real time, and the answer each service throttles
// with.
package quota

import (
	"net/http"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/wire"
)

// bucketState is a token bucket refilled in real time.
type bucketState struct {
	tokens float64
	last   time.Time
}

// Limiter holds AWS-style token buckets, one per (service, account).
type Limiter struct {
	mu      sync.Mutex
	rate    map[string]float64
	burst   map[string]float64
	buckets map[string]*bucketState
}

// Rates are requests per second by service (0 means unlimited), with their
// bursts (0 means one second's worth of requests).
type Rates struct {
	STS, Orgs, IAM                float64
	STSBurst, OrgsBurst, IAMBurst int
	// Account is Account Management's, per calling account.
	Account      float64
	AccountBurst int
}

// New builds the token buckets of the rates.
func New(o Rates) *Limiter {
	l := &Limiter{rate: map[string]float64{}, burst: map[string]float64{}, buckets: map[string]*bucketState{}}
	set := func(service string, rate float64, burst int) {
		if rate <= 0 {
			return
		}
		l.rate[service] = rate
		b := float64(burst)
		if b <= 0 {
			b = max(1, rate)
		}
		l.burst[service] = b
	}
	set("sts", o.STS, o.STSBurst)
	set("organizations", o.Orgs, o.OrgsBurst)
	set("iam", o.IAM, o.IAMBurst)
	set("account", o.Account, o.AccountBurst)
	return l
}

// Allow takes a token from the bucket of service and account.
func (l *Limiter) Allow(service, account string, now time.Time) bool {
	rate, ok := l.rate[service]
	if !ok {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := service + "/" + account
	b, ok := l.buckets[k]
	if !ok {
		b = &bucketState{tokens: l.burst[service], last: now}
		l.buckets[k] = b
	}
	b.tokens = min(l.burst[service], b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Throttled is AWS's throttling answer of a service.
func Throttled(service string) *wire.APIError { return throttleErrors[service] }

var throttleErrors = map[string]*wire.APIError{
	"sts":           {Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
	"iam":           {Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
	"organizations": {Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because it conflicts with another attempt to modify the same entity. Try again later."},
	"s3":            {Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."},
	// Account Management's model gives TooManyRequestsException status 429
	// and marks it a throttling error (botocore account/2021-02-01).
	"account": {Status: http.StatusTooManyRequests, Code: "TooManyRequestsException", Message: "Rate exceeded"},
}
