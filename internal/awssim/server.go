package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/faults"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/quota"
	"github.com/orgscan/orgscan/internal/awssim/rng"
	"github.com/orgscan/orgscan/internal/awssim/service/account"
	"github.com/orgscan/orgscan/internal/awssim/service/iam"
	"github.com/orgscan/orgscan/internal/awssim/service/organizations"
	"github.com/orgscan/orgscan/internal/awssim/service/s3"
	"github.com/orgscan/orgscan/internal/awssim/service/sts"
	"github.com/orgscan/orgscan/internal/awssim/stats"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"github.com/orgscan/orgscan/internal/awssim/world"
)

// Options configure a simulator. The zero value (plus a Fixture) is a fast,
// fault-free AWS with no quotas.
type Options struct {
	// Addr is the loopback address to listen on; default 127.0.0.1:0.
	Addr    string
	Fixture *Fixture
	// Now is the simulator's clock for credential expiry, timestamps and
	// credential report ages; default time.Now. Quotas always use real time.
	Now func() time.Time
	// Seed makes latency jitter, fault injection and generated secrets
	// reproducible.
	Seed int64

	Latency time.Duration // added to every request
	Jitter  time.Duration // uniformly in [-Jitter, +Jitter]

	// Rates are requests per second (0 means unlimited); bursts default to
	// one second's worth of requests.
	STSRate   float64 // per calling account (AWS: 600/s)
	STSBurst  int
	OrgsRate  float64 // per calling account, one bucket for every operation
	OrgsBurst int
	IAMRate   float64 // per target account
	IAMBurst  int
	// AccountRate is Account Management's, per calling account (AWS:
	// GetAlternateContact 10/s, burst 15, "per account" in the Account
	// Management Reference Guide's quotas, read here as the caller's).
	AccountRate  float64
	AccountBurst int

	// ErrorRate and DropRate are the probabilities that a request gets a
	// 5xx response or has its connection dropped without a response.
	ErrorRate float64
	DropRate  float64
	// FaultServices limits ErrorRate and DropRate to these services
	// (organizations, sts, iam, s3, account); empty means all.
	FaultServices []string
	// MaxFaultBurst, when positive, is the most faults injected in a row
	// into the same request (calling account, operation and parameters):
	// a client that retries more often always gets through, as it would
	// through AWS's transient failures. Without it, a test of "5xx costs
	// time, not rows" fails now and then by chance.
	MaxFaultBurst int
	// FaultRules inject faults into the requests they match (see
	// faults.Rule): a refusal for one account, an answer lost after the
	// operation took effect.
	FaultRules []faults.Rule
}

// Server is a running simulator: the router that authenticates a request,
// admits it past latency, faults and quotas, and hands it to its service.
type Server struct {
	opts   Options
	now    func() time.Time
	ln     net.Listener
	http   *http.Server
	stats  *stats.Counters
	limits *quota.Limiter
	faults *faults.Injector
	rand   *rng.Rand

	world *world.World // the organization, read-only
	creds *auth.Store  // fixture users and issued sessions
	iam   *iam.Service
	s3    *s3.Service

	// ops are the operation tables by service, built once: IAM's alone has
	// every action of the API model.
	ops map[string]map[string]op.Func

	closed    chan struct{}
	closeOnce sync.Once
}

// Start serves the fixture's world on a loopback address until ctx ends or
// Close is called.
func Start(ctx context.Context, opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.http = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			s.Close()
		case <-s.closed:
		}
	}()
	return s, nil
}

// New builds a simulator handler without listening; Start is the usual entry.
func New(opts Options) (*Server, error) {
	if opts.Fixture == nil {
		return nil, errors.New("awssim: a fixture is required")
	}
	if err := opts.Fixture.Validate(); err != nil {
		return nil, fmt.Errorf("awssim: %w", err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	r := rng.New(opts.Seed)
	w := world.New(opts.Fixture)
	creds := auth.NewStore(opts.Fixture.Credentials, r)
	s := &Server{
		opts:  opts,
		now:   now,
		stats: stats.NewCounters(),
		limits: quota.New(quota.Rates{
			STS: opts.STSRate, STSBurst: opts.STSBurst,
			Orgs: opts.OrgsRate, OrgsBurst: opts.OrgsBurst,
			IAM: opts.IAMRate, IAMBurst: opts.IAMBurst,
			Account: opts.AccountRate, AccountBurst: opts.AccountBurst,
		}),
		rand:   r,
		world:  w,
		creds:  creds,
		iam:    iam.New(w, creds),
		s3:     s3.New(opts.Fixture.Buckets, r),
		closed: make(chan struct{}),
	}
	s.faults = faults.New(faults.Config{
		Latency: opts.Latency, Jitter: opts.Jitter,
		ErrorRate: opts.ErrorRate, DropRate: opts.DropRate,
		Services: opts.FaultServices, MaxBurst: opts.MaxFaultBurst, Rules: opts.FaultRules,
	}, r, w, s.closed)
	s.ops = map[string]map[string]op.Func{
		"organizations": organizations.New(w).Ops(),
		"sts":           sts.New(w, creds).Ops(),
		"iam":           s.iam.Ops(),
		"account":       account.New(w).Ops(),
	}
	return s, nil
}

// CheckLoopback refuses any listen address that is not on the loopback
// interface: the simulator hands out credentials and must never be reachable
// from another host.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w (want host:port, e.g. 127.0.0.1:4566)", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q is not a loopback address; use 127.0.0.1 or [::1]", addr)
	}
	return nil
}

// loopbackHost accepts a Host header that names the loopback interface: a
// loopback IP literal, localhost, or a name under .localhost (RFC 6761,
// which resolvers and browsers keep on the loopback interface; S3's
// virtual-hosted style uses bucket.localhost). The port is not compared:
// a rebinding page uses the simulator's own port, and a local forwarding
// proxy in front of the simulator legitimately names another.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// truncateHost keeps a refused Host short in the answer; %q escapes the
// rest.
func truncateHost(h string) string {
	if len(h) > 64 {
		return h[:64] + "..."
	}
	return h
}

// URL is the endpoint to give the SDK (BaseEndpoint or AWS_ENDPOINT_URL).
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server at once: open connections are closed and requests
// that hang are released. A simulator has no request worth draining.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		if s.http != nil {
			_ = s.http.Close()
		}
	})
}

const maxBody = 64 << 20

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		// A web page whose name an attacker re-pointed at 127.0.0.1 (DNS
		// rebinding) reaches this port with its own name as the Host. 421
		// Misdirected Request (RFC 9110, section 15.5.20) says this server
		// does not answer for that name at all; 403 would say the sender
		// lacks a permission it could be granted.
		listen := "127.0.0.1"
		if s.ln != nil {
			listen = s.Addr()
		}
		wire.WriteError(w, guessService(r), s.requestID(), wire.Errorf(http.StatusMisdirectedRequest, "MisdirectedRequest",
			"awssim answers only for loopback host names such as %s; the request named host %q (DNS rebinding from a web page looks like this)",
			listen, truncateHost(r.Host)))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_awssim/") {
		s.serveControl(w, r)
		return
	}
	reqID := s.requestID()
	w.Header().Set("x-amzn-RequestId", reqID)

	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxBody {
		wire.WriteError(w, "s3", reqID, wire.Errorf(http.StatusRequestEntityTooLarge, "EntityTooLarge", "request body exceeds %d bytes", maxBody))
		return
	}

	authz, aerr := auth.ParseAuthorization(r)
	service := "unknown"
	if aerr == nil {
		service = authz.Service
	} else if guessed := guessService(r); guessed != "" {
		service = guessed
	}
	c := &op.Call{Ctx: r.Context(), Request: r, Body: body, Service: service, Now: s.now()}
	c.Op = s.operationName(c)
	s.stats.Request(service, c.Op)

	if aerr != nil {
		s.fail(w, c, reqID, aerr)
		return
	}
	c.Region = authz.Region
	caller, err := s.creds.Authenticate(r, body, authz, c.Now)
	if err != nil {
		s.fail(w, c, reqID, err)
		return
	}
	c.Caller = caller
	if service == "iam" && iam.Mutating(c.Op) {
		// Counted before faults and authorization: an attempt to change
		// state is what a dry run must never make.
		s.stats.Mutation(service, c.Op)
	}

	if !s.admit(w, c, reqID) {
		return
	}

	switch service {
	case "s3":
		if err := s.s3.Serve(w, c, reqID); err != nil {
			s.fail(w, c, reqID, err)
		}
		return
	case "organizations", "sts", "iam", "account":
	default:
		s.fail(w, c, reqID, wire.Errorf(http.StatusBadRequest, "UnknownService", "service %q is not simulated", service))
		return
	}
	ops := s.operations(service)
	fn, ok := ops[c.Op]
	if !ok {
		s.fail(w, c, reqID, unknownOperation(service, c.Op))
		return
	}
	if s.faults.Hangs(c) {
		s.faults.Hang(c)
		return
	}
	result, err := fn(c)
	if err != nil {
		s.fail(w, c, reqID, err)
		return
	}
	if s.faults.LoseAnswer(c) {
		s.stats.Failed(c.Service, c.Op, "DroppedConnection")
		faults.DropConnection(w)
		return
	}
	if service == "iam" && s.faults.Malformed(c) {
		// A truncated document: the SDK must report a deserialization
		// error for this account, not panic.
		w.Header().Set("Content-Type", "text/xml")
		_, _ = io.WriteString(w, "<"+c.Op+"Response><"+c.Op+"Result><Summar")
		return
	}
	wire.WriteResult(w, service, c.Op, reqID, result)
}

// operationName reads the operation from the request without authenticating
// it, so that counters and errors can name it.
func (s *Server) operationName(c *op.Call) string {
	switch c.Service {
	case "organizations":
		target := c.Request.Header.Get("X-Amz-Target")
		if i := strings.LastIndexByte(target, '.'); i >= 0 {
			return target[i+1:]
		}
		return target
	case "sts", "iam":
		form, err := url.ParseQuery(string(c.Body))
		if err != nil || c.Request.Method == http.MethodGet {
			form = c.Request.URL.Query()
		}
		c.Form = form
		return form.Get("Action")
	case "s3":
		return s3.OperationName(c.Request)
	case "account":
		return account.OperationName(c.Request)
	}
	return ""
}

func (s *Server) operations(service string) map[string]op.Func {
	return s.ops[service]
}

func unknownOperation(service, name string) *wire.APIError {
	switch service {
	case "organizations":
		return wire.Errorf(http.StatusBadRequest, "UnknownOperationException", "operation %q is not simulated", name)
	case "account":
		return account.UnknownOperation(name)
	}
	return wire.Errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version", name)
}

// fail records and writes an error response.
func (s *Server) fail(w http.ResponseWriter, c *op.Call, reqID string, err error) {
	var ae *wire.APIError
	if !errors.As(err, &ae) {
		ae = &wire.APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error(), Receiver: true}
	}
	s.stats.Failed(c.Service, c.Op, ae.Code)
	wire.WriteError(w, c.Service, reqID, ae)
}

func (s *Server) requestID() string {
	b := s.rand.Bytes(16)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// serveControl answers the simulator's own endpoints.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_awssim/stats":
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s.Stats()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	default:
		http.NotFound(w, r)
	}
}

// guessService names the service of an unsigned request for its error shape.
func guessService(r *http.Request) string {
	if r.Header.Get("X-Amz-Target") != "" {
		return "organizations"
	}
	if account.OperationName(r) != "" {
		return "account"
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return "sts"
	}
	return "s3"
}

// admit applies latency, injected faults and quotas to an authenticated
// request. It reports whether the request may go on; when not, the response
// has been written (or the connection dropped).
func (s *Server) admit(w http.ResponseWriter, c *op.Call, reqID string) bool {
	if d := s.faults.Latency(); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.Ctx.Done():
			t.Stop()
			return false
		}
	}
	switch kind, answer := s.faults.Rule(c); kind {
	case faults.Drop:
		s.stats.Failed(c.Service, c.Op, "DroppedConnection")
		faults.DropConnection(w)
		return false
	case faults.Error:
		s.fail(w, c, reqID, answer)
		return false
	}
	switch s.faults.Pick(c) {
	case faults.Drop:
		s.stats.Failed(c.Service, c.Op, "DroppedConnection")
		faults.DropConnection(w)
		return false
	case faults.Error:
		s.fail(w, c, reqID, serverError(c.Service))
		return false
	}
	if !s.limits.Allow(c.Service, c.Caller.AccountID, time.Now()) {
		s.fail(w, c, reqID, quota.Throttled(c.Service))
		return false
	}
	return true
}

// serverError is a service's answer to an injected 5xx fault. Account
// Management's lives with its service; a service without one of its own
// gets a generic 500 rather than no answer.
func serverError(service string) *wire.APIError {
	if service == "account" {
		return account.ServerError()
	}
	if e := faults.ServerError(service); e != nil {
		return e
	}
	return &wire.APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: "injected server error", Receiver: true}
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats { return s.stats.Snapshot() }

// RootUser is the root user of an account as the simulator's IAM has left
// it: the fixture's, less what root sessions deleted.
func (s *Server) RootUser(accountID string) RootUser { return s.iam.RootUser(accountID) }

// ChangeRootUser changes an account's root user as its owner would outside
// the simulated APIs (a root access key created by signing in as root),
// so that a test can change the world between two runs.
func (s *Server) ChangeRootUser(accountID string, fn func(*RootUser)) {
	s.iam.ChangeRootUser(accountID, fn)
}

// ResetStats zeroes the counters (between benchmark phases).
func (s *Server) ResetStats() { s.stats.Reset() }

// Object returns the current version of an object.
func (s *Server) Object(bucket, key string) (ObjectInfo, bool) { return s.s3.Object(bucket, key) }

// Objects returns the keys of a bucket's current objects, sorted.
func (s *Server) Objects(bucket string) []string { return s.s3.Objects(bucket) }

// S3Calls returns the S3 requests received so far, oldest first.
func (s *Server) S3Calls() []S3Call { return s.s3.Calls() }
