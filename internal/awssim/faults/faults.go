// Package faults makes the simulator misbehave as AWS does now and then:
// latency with jitter, 5xx answers and dropped connections drawn by
// probability (at most MaxBurst in a row for the same request), faults
// that rules aim at particular requests (including answers lost after the
// operation took effect), and the per-account faults a fixture asks for
// (requests that hang, IAM answers cut short).
package faults

import (
	"crypto/sha256"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/rng"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"github.com/orgscan/orgscan/internal/awssim/world"
)

// Config is what faults to inject; the zero value injects none.
type Config struct {
	Latency time.Duration // added to every request
	Jitter  time.Duration // uniformly in [-Jitter, +Jitter]
	// ErrorRate and DropRate are the probabilities that a request gets a
	// 5xx response or has its connection dropped without a response.
	ErrorRate float64
	DropRate  float64
	// Services limits ErrorRate and DropRate to these services; empty
	// means all.
	Services []string
	// MaxBurst, when positive, is the most faults injected in a row into
	// the same request.
	MaxBurst int
	// Rules inject faults into the requests they match, whatever the
	// rates draw.
	Rules []Rule
}

// Rule injects a fault into particular requests, for a test that needs one
// request to fail in one particular way: an account's AssumeRoot refused,
// a deletion whose answer is lost after it took effect.
type Rule struct {
	Service string // "" matches any service
	Op      string // "" matches any operation
	// Account is the account the request acts in (op.Call.TargetAccount:
	// the target of AssumeRole and AssumeRoot, else the caller's); ""
	// matches any.
	Account string
	Kind    Kind
	// Status, Code and Message are the answer of an Error rule; without a
	// Code the service's 5xx answer (ServerError) is sent.
	Status  int
	Code    string
	Message string
	// Times is how many matching requests the rule hits; every one when
	// zero.
	Times int
}

func (r *Rule) matches(c *op.Call) bool {
	return (r.Service == "" || r.Service == c.Service) && (r.Op == "" || r.Op == c.Op) &&
		(r.Account == "" || r.Account == c.TargetAccount())
}

// answer is an Error rule's response.
func (r *Rule) answer(service string) *wire.APIError {
	if r.Code == "" {
		if e := ServerError(service); e != nil {
			return e
		}
		return &wire.APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "injected server error", Receiver: true}
	}
	status := r.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	return &wire.APIError{Status: status, Code: r.Code, Message: r.Message, Receiver: status >= 500}
}

// Injector draws faults for requests. Hanging requests are released when
// closed is closed.
type Injector struct {
	cfg    Config
	rand   *rng.Rand
	world  *world.World
	closed <-chan struct{}

	burstMu sync.Mutex
	bursts  map[string]int // faults in a row, by request (MaxBurst)

	rulesMu sync.Mutex
	hits    []int // requests each rule has hit, by index in cfg.Rules
}

// New draws from r, reads per-account faults from w, and releases hanging
// requests when closed is closed.
func New(cfg Config, r *rng.Rand, w *world.World, closed <-chan struct{}) *Injector {
	cfg.Rules = slices.Clone(cfg.Rules)
	return &Injector{cfg: cfg, rand: r, world: w, closed: closed}
}

// ServerError is a service's answer to an injected 5xx fault.
func ServerError(service string) *wire.APIError { return serverErrors[service] }

var serverErrors = map[string]*wire.APIError{
	"sts":           {Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Receiver: true},
	"iam":           {Status: http.StatusInternalServerError, Code: "ServiceFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Receiver: true},
	"organizations": {Status: http.StatusInternalServerError, Code: "ServiceException", Message: "AWS Organizations can't complete your request because of an internal service error. Try again later.", Receiver: true},
	"s3":            {Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again.", Receiver: true},
}

// Latency draws the delay of a request.
func (s *Injector) Latency() time.Duration {
	d := s.cfg.Latency
	if s.cfg.Jitter > 0 {
		d += time.Duration((s.rand.Float64()*2 - 1) * float64(s.cfg.Jitter))
	}
	return max(d, 0)
}

// Kind is an injected fault.
type Kind int

const (
	None Kind = iota
	Drop
	Error
	// LoseAnswer runs the operation, so that what it changes is changed,
	// then drops the connection without the answer: the client cannot
	// tell it from a Drop, and its retry meets the changed world.
	LoseAnswer
)

// Rule draws the fault a rule injects into the request before its
// operation runs: None, Drop or Error with the answer to send.
func (s *Injector) Rule(c *op.Call) (Kind, *wire.APIError) {
	r := s.hit(c, func(k Kind) bool { return k == Drop || k == Error })
	if r == nil {
		return None, nil
	}
	if r.Kind == Error {
		return Error, r.answer(c.Service)
	}
	return r.Kind, nil
}

// LoseAnswer tells whether a rule drops the answer of a request whose
// operation has succeeded.
func (s *Injector) LoseAnswer(c *op.Call) bool {
	return s.hit(c, func(k Kind) bool { return k == LoseAnswer }) != nil
}

// hit returns the first rule of a wanted kind that matches the request and
// has hits left, counting the hit.
func (s *Injector) hit(c *op.Call, want func(Kind) bool) *Rule {
	if len(s.cfg.Rules) == 0 {
		return nil
	}
	s.rulesMu.Lock()
	defer s.rulesMu.Unlock()
	if s.hits == nil {
		s.hits = make([]int, len(s.cfg.Rules))
	}
	for i := range s.cfg.Rules {
		r := &s.cfg.Rules[i]
		if !want(r.Kind) || !r.matches(c) || r.Times > 0 && s.hits[i] >= r.Times {
			continue
		}
		s.hits[i]++
		return r
	}
	return nil
}

// Pick draws the request's injected fault, if any, keeping to MaxBurst
// faults in a row for the same request.
func (s *Injector) Pick(c *op.Call) Kind {
	if !s.apply(c.Service) {
		return None
	}
	kind := None
	switch {
	case s.cfg.DropRate > 0 && s.rand.Float64() < s.cfg.DropRate:
		kind = Drop
	case s.cfg.ErrorRate > 0 && s.rand.Float64() < s.cfg.ErrorRate:
		kind = Error
	}
	if s.cfg.MaxBurst <= 0 {
		return kind
	}
	// By account, not access key: a client may retry with a new session.
	sum := sha256.Sum256(c.Body)
	key := c.Caller.AccountID + "\x00" + c.Op + "\x00" + c.Request.URL.Path + "\x00" + string(sum[:])
	s.burstMu.Lock()
	defer s.burstMu.Unlock()
	if kind == None || s.bursts[key] >= s.cfg.MaxBurst {
		delete(s.bursts, key)
		return None
	}
	if s.bursts == nil {
		s.bursts = map[string]int{}
	}
	s.bursts[key]++
	return kind
}

func (s *Injector) apply(service string) bool {
	return len(s.cfg.Services) == 0 || slices.Contains(s.cfg.Services, service)
}

// DropConnection closes the TCP connection without writing a response.
func DropConnection(w http.ResponseWriter) {
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

// Hangs tells whether the fixture makes this request hang.
func (s *Injector) Hangs(c *op.Call) bool {
	if c.Service != "sts" && c.Service != "iam" {
		return false
	}
	if c.Service == "sts" && c.Op != "AssumeRole" && c.Op != "AssumeRoot" {
		return false
	}
	a, ok := s.world.Accounts[c.TargetAccount()]
	return ok && a.Faults.Hang
}

// Hang blocks until the client gives up or the server closes.
func (s *Injector) Hang(c *op.Call) {
	select {
	case <-c.Ctx.Done():
	case <-s.closed:
	}
}

// Malformed tells whether IAM answers this caller's account with a
// truncated document.
func (s *Injector) Malformed(c *op.Call) bool {
	a, ok := s.world.Accounts[c.Caller.AccountID]
	return ok && a.Faults.MalformedIAM
}
