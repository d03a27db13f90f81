package scan_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
)

func TestAccessMethods(t *testing.T) {
	central := handWorld()
	notCentral := handWorld()
	notCentral.Organization.Features = awssim.Features{IAMTrustedAccess: true}

	type want struct{ status, access string }
	tests := []struct {
		name    string
		fx      *awssim.Fixture
		methods func(w *world) []scan.Method
		wants   map[string]want
		errHas  map[string][]string // account -> substrings of its error
	}{
		{
			name:    "assume-root audits member accounts without any role deployed",
			fx:      central,
			methods: func(w *world) []scan.Method { return []scan.Method{w.rootMethod()} },
			wants: map[string]want{
				mgmtID:         {scan.StatusOK, scan.AccessCaller},
				"222222222222": {scan.StatusOK, scan.AccessAssumeRoot},
				"666666666666": {scan.StatusOK, scan.AccessAssumeRoot}, // no role there
				"777777777777": {scan.StatusOK, scan.AccessAssumeRoot},
			},
		},
		{
			name:    "a missing role falls back to a root session for that account only",
			fx:      central,
			methods: func(w *world) []scan.Method { return []scan.Method{w.roleMethod(roleName, ""), w.rootMethod()} },
			wants: map[string]want{
				"222222222222": {scan.StatusOK, scan.AccessAssumeRole},
				"666666666666": {scan.StatusOK, scan.AccessAssumeRoot},
				"777777777777": {scan.StatusOK, scan.AccessAssumeRoot},
			},
		},
		{
			name:    "root sessions refused fall back to the role",
			fx:      notCentral,
			methods: func(w *world) []scan.Method { return []scan.Method{w.rootMethod(), w.roleMethod(roleName, "")} },
			wants: map[string]want{
				"222222222222": {scan.StatusOK, scan.AccessAssumeRole},
				"333333333333": {scan.StatusOK, scan.AccessAssumeRole},
			},
		},
		{
			name:    "both methods failing is one error row naming both causes",
			fx:      notCentral,
			methods: func(w *world) []scan.Method { return []scan.Method{w.rootMethod(), w.roleMethod(roleName, "")} },
			wants: map[string]want{
				"666666666666": {scan.StatusError, ""},
			},
			errHas: map[string][]string{"666666666666": {"assume-root: assume root in 666666666666", "assume-role: assume role arn:aws:iam::666666666666:role/" + roleName}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.fx, awssim.Options{})
			cfg := w.config()
			cfg.Methods = tc.methods(w)
			rows := rowsByID(w.run(t, cfg).Rows)
			for id, want := range tc.wants {
				r := rows[id]
				if r.Status != want.status || r.AccessMethod != want.access {
					t.Errorf("%s: status %q access %q, want %+v (error %q)", id, r.Status, r.AccessMethod, want, r.Error)
				}
			}
			for id, subs := range tc.errHas {
				for _, sub := range subs {
					if !strings.Contains(rows[id].Error, sub) {
						t.Errorf("%s: error %q does not name %q", id, rows[id].Error, sub)
					}
				}
			}
		})
	}
}

func TestCentrallyManagedFinding(t *testing.T) {
	w := newWorld(t, handWorld(), awssim.Options{})
	cfg := w.config()
	cfg.Methods = []scan.Method{w.rootMethod()}
	cfg.CentralRootManagement = true
	rows := rowsByID(w.run(t, cfg).Rows)
	for id, want := range map[string]bool{
		"333333333333": true,  // keys and a certificate
		"444444444444": true,  // a password
		"222222222222": false, // nothing left: as it should be
		mgmtID:         false, // the management account is not centrally managed
	} {
		got := false
		for _, f := range rows[id].Findings {
			got = got || f == scan.FindingCentrallyManaged
		}
		if got != want {
			t.Errorf("%s: %s = %v, want %v (findings %v)", id, scan.FindingCentrallyManaged, got, want, rows[id].Findings)
		}
	}
	// Without a credential and with recovery blocked centrally, a member's
	// root user needs no MFA.
	for _, f := range rows["222222222222"].Findings {
		if f == scan.FindingRootNoMFA {
			t.Errorf("222222222222 has no root credential: %s is noise", f)
		}
	}
}

// expiringMethod wraps a method so that its first session in each account
// expires (on the simulator's clock) right after it is issued.
type expiringMethod struct {
	scan.Method
	clock *simClock
}

func (m expiringMethod) Credentials(accountID string) aws.CredentialsProvider {
	inner := m.Method.Credentials(accountID)
	return &expiringProvider{inner: inner, clock: m.clock}
}

type expiringProvider struct {
	inner    aws.CredentialsProvider
	clock    *simClock
	once     sync.Once
	retrieve atomic.Int32
}

func (p *expiringProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.inner.Retrieve(ctx)
	p.retrieve.Add(1)
	p.once.Do(func() { p.clock.advance(16 * time.Minute) })
	return c, err
}

func (p *expiringProvider) Invalidate() {
	if inv, ok := p.inner.(interface{ Invalidate() }); ok {
		inv.Invalidate()
	}
}

// simClock is the simulator's clock, moved by tests.
type simClock struct{ offset atomic.Int64 }

func (c *simClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *simClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

func TestASessionThatOutlivesItsDurationIsRenewedNotFailed(t *testing.T) {
	clock := &simClock{}
	w := newWorld(t, handWorld(), awssim.Options{Now: clock.now})
	cfg := w.config()
	cfg.Methods = []scan.Method{expiringMethod{Method: w.rootMethod(), clock: clock}}
	cfg.Filter = scan.Filter{Accounts: []string{"333333333333"}}
	cfg.Concurrency = 1
	r := w.run(t, cfg).Rows[0]
	if r.Status != scan.StatusOK || r.AccessMethod != scan.AccessAssumeRoot {
		t.Fatalf("row %+v: an expired root session must be renewed", r)
	}
	if got := w.Server.Stats().Operations["sts:AssumeRoot"].Requests; got != 2 {
		t.Errorf("AssumeRoot calls = %d, want 2 (the session, then its renewal)", got)
	}
	if got := w.Server.Stats().Operations["iam:GetAccountSummary"].Failed; got != 1 {
		t.Errorf("want exactly one GetAccountSummary refused with ExpiredToken, got %d", got)
	}
}
