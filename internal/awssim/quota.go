package awssim

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// OpStats counts what happened to one operation.
type OpStats struct {
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	Failed    int64 `json:"failed"` // errors other than throttling
}

// Stats is a snapshot of the per-operation counters, keyed "service:Operation".
type Stats struct {
	Operations map[string]OpStats `json:"operations"`
}

// Total sums the counters of every operation of a service ("" for all).
func (st Stats) Total(service string) OpStats {
	var t OpStats
	for k, v := range st.Operations {
		if service != "" && !strings.HasPrefix(k, service+":") {
			continue
		}
		t.Requests += v.Requests
		t.Throttled += v.Throttled
		t.Failed += v.Failed
	}
	return t
}

type stats struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

func newStats() *stats { return &stats{ops: map[string]*OpStats{}} }

func (st *stats) get(service, op string) *OpStats {
	k := service + ":" + op
	o, ok := st.ops[k]
	if !ok {
		o = &OpStats{}
		st.ops[k] = o
	}
	return o
}

func (st *stats) request(service, op string) {
	st.mu.Lock()
	st.get(service, op).Requests++
	st.mu.Unlock()
}

var throttleCodes = []string{"Throttling", "TooManyRequestsException", "SlowDown", "ThrottlingException"}

func (st *stats) failed(service, op, code string) {
	st.mu.Lock()
	o := st.get(service, op)
	if slices.Contains(throttleCodes, code) {
		o.Throttled++
	} else {
		o.Failed++
	}
	st.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.stats.mu.Lock()
	defer s.stats.mu.Unlock()
	out := Stats{Operations: make(map[string]OpStats, len(s.stats.ops))}
	for k, v := range s.stats.ops {
		out.Operations[k] = *v
	}
	return out
}

// ResetStats zeroes the counters (between benchmark phases).
func (s *Server) ResetStats() {
	s.stats.mu.Lock()
	s.stats.ops = map[string]*OpStats{}
	s.stats.mu.Unlock()
}

// bucketState is a token bucket refilled in real time.
type bucketState struct {
	tokens float64
	last   time.Time
}

// limiter holds AWS-style token buckets, one per (service, account).
type limiter struct {
	mu      sync.Mutex
	rate    map[string]float64
	burst   map[string]float64
	buckets map[string]*bucketState
}

func newLimiter(o Options) *limiter {
	l := &limiter{rate: map[string]float64{}, burst: map[string]float64{}, buckets: map[string]*bucketState{}}
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
	set("sts", o.STSRate, o.STSBurst)
	set("organizations", o.OrgsRate, o.OrgsBurst)
	set("iam", o.IAMRate, o.IAMBurst)
	return l
}

// allow takes a token from the bucket of service and account.
func (l *limiter) allow(service, account string, now time.Time) bool {
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

var throttleErrors = map[string]*apiError{
	"sts":           {Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
	"iam":           {Status: http.StatusBadRequest, Code: "Throttling", Message: "Rate exceeded"},
	"organizations": {Status: http.StatusBadRequest, Code: "TooManyRequestsException", Message: "AWS Organizations can't complete your request because it conflicts with another attempt to modify the same entity. Try again later."},
	"s3":            {Status: http.StatusServiceUnavailable, Code: "SlowDown", Message: "Please reduce your request rate."},
}

var serverErrors = map[string]*apiError{
	"sts":           {Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Receiver: true},
	"iam":           {Status: http.StatusInternalServerError, Code: "ServiceFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Receiver: true},
	"organizations": {Status: http.StatusInternalServerError, Code: "ServiceException", Message: "AWS Organizations can't complete your request because of an internal service error. Try again later.", Receiver: true},
	"s3":            {Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again.", Receiver: true},
}

// admit applies latency, injected faults and quotas to an authenticated
// request. It reports whether the request may go on; when not, the response
// has been written (or the connection dropped).
func (s *Server) admit(w http.ResponseWriter, c *call, reqID string) bool {
	if d := s.latency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return false
		}
	}
	switch s.pickFault(c) {
	case dropFault:
		s.stats.failed(c.service, c.op, "DroppedConnection")
		dropConnection(w)
		return false
	case errorFault:
		s.fail(w, c, reqID, serverErrors[c.service])
		return false
	}
	if !s.limits.allow(c.service, c.caller.AccountID, time.Now()) {
		s.fail(w, c, reqID, throttleErrors[c.service])
		return false
	}
	return true
}

func (s *Server) latency() time.Duration {
	d := s.opts.Latency
	if s.opts.Jitter > 0 {
		d += time.Duration((s.float()*2 - 1) * float64(s.opts.Jitter))
	}
	return max(d, 0)
}

type faultKind int

const (
	noFault faultKind = iota
	dropFault
	errorFault
)

// pickFault draws the request's injected fault, if any, keeping to
// MaxFaultBurst faults in a row for the same request.
func (s *Server) pickFault(c *call) faultKind {
	if !s.faultsApply(c.service) {
		return noFault
	}
	kind := noFault
	switch {
	case s.opts.DropRate > 0 && s.float() < s.opts.DropRate:
		kind = dropFault
	case s.opts.ErrorRate > 0 && s.float() < s.opts.ErrorRate:
		kind = errorFault
	}
	if s.opts.MaxFaultBurst <= 0 {
		return kind
	}
	// By account, not access key: a client may retry with a new session.
	sum := sha256.Sum256(c.body)
	key := c.caller.AccountID + "\x00" + c.op + "\x00" + c.r.URL.Path + "\x00" + string(sum[:])
	s.burstMu.Lock()
	defer s.burstMu.Unlock()
	if kind == noFault || s.bursts[key] >= s.opts.MaxFaultBurst {
		delete(s.bursts, key)
		return noFault
	}
	if s.bursts == nil {
		s.bursts = map[string]int{}
	}
	s.bursts[key]++
	return kind
}

func (s *Server) faultsApply(service string) bool {
	return len(s.opts.FaultServices) == 0 || slices.Contains(s.opts.FaultServices, service)
}

// dropConnection closes the TCP connection without writing a response.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// targetAccount is the account a request acts in: the account a role or
// root session is requested for, or the caller's own account.
func (c *call) targetAccount() string {
	switch c.op {
	case "AssumeRole":
		if parts := strings.Split(c.form.Get("RoleArn"), ":"); len(parts) >= 5 {
			return parts[4]
		}
	case "AssumeRoot":
		return accountOfPrincipal(c.form.Get("TargetPrincipal"))
	}
	return c.caller.AccountID
}

// hangs tells whether the fixture makes this request hang.
func (s *Server) hangs(c *call) bool {
	if c.service != "sts" && c.service != "iam" {
		return false
	}
	if c.service == "sts" && c.op != "AssumeRole" && c.op != "AssumeRoot" {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.world.accounts[c.targetAccount()]
	return ok && a.Faults.Hang
}

// hang blocks until the client gives up or the server closes.
func (s *Server) hang(c *call) {
	select {
	case <-c.ctx.Done():
	case <-s.closed:
	}
}

// malformed tells whether IAM answers this caller's account with a
// truncated document.
func (s *Server) malformed(c *call) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.world.accounts[c.caller.AccountID]
	return ok && a.Faults.MalformedIAM
}
