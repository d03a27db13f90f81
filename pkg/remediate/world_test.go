package remediate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/internal/awssim"
	iamsvc "github.com/orgscan/orgscan/internal/awssim/service/iam"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// The accounts of testWorld, each a case a plan must get right.
const (
	orgID        = "o-remediate01"
	mgmt         = "111111111111"
	acctOldKey   = "222222222222" // an old key, a certificate, a password and a virtual MFA device
	acctRecent   = "333333333333" // a key used last week and a key never used
	acctClean    = "444444444444" // nothing to delete
	acctPassword = "555555555555" // a password and a virtual MFA device
	acctSuspend  = "666666666666" // suspended, with a key
	acctTwoCerts = "777777777777" // two certificates, hardware MFA

	keyOld     = "AKIAOLDROOTKEY000001"
	keyRecent  = "AKIARECENTROOTKEY001"
	keyUnused  = "AKIAUNUSEDROOTKEY001"
	keySuspend = "AKIASUSPENDEDKEY0001"
	certOld    = "CERTOLD00000000000000000001"
	certA      = "CERTTWOA0000000000000000001"
	certB      = "CERTTWOB0000000000000000001"
	adminKey   = "AKIAADMINREMEDIATE01"
	adminSec   = "admin-secret-remediate"
)

// testWorld is an organization with centralized root access whose
// member accounts hold every kind of root credential; now is the clock
// the keys' last use is measured against.
func testWorld(now time.Time) *awssim.Fixture {
	day := 24 * time.Hour
	created := now.Add(-400 * day)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	member := func(id, name, state string, root awssim.RootUser) awssim.Account {
		root.CreatedAt = created
		return awssim.Account{
			ID: id, Name: name, Email: name + "@example.com", State: state,
			JoinedMethod: "CREATED", JoinedTimestamp: created, Parent: "ou-ab12-workload1", Root: root,
		}
	}
	return &awssim.Fixture{
		Organization: awssim.Organization{
			ID: orgID, RootID: "r-ab12", ManagementAccountID: mgmt,
			OUs:      []awssim.OU{{ID: "ou-ab12-workload1", Name: "Workloads", Parent: "r-ab12"}},
			Features: awssim.Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
		},
		Accounts: []awssim.Account{
			{ID: mgmt, Name: "management", Email: "mgmt@example.com", State: "ACTIVE", JoinedMethod: "CREATED",
				JoinedTimestamp: created, Parent: "r-ab12",
				Root: awssim.RootUser{CreatedAt: created, MFA: "hardware", Password: &awssim.Password{CreatedAt: created},
					AccessKeys: []awssim.AccessKey{{ID: "AKIAMANAGEMENTROOT01", Status: "Active", CreatedAt: created}}}},
			member(acctOldKey, "old-key", "ACTIVE", awssim.RootUser{
				AccessKeys:          []awssim.AccessKey{{ID: keyOld, Status: "Active", CreatedAt: created, LastUsedAt: ago(200 * day), LastUsedService: "s3", LastUsedRegion: "us-east-1"}},
				SigningCertificates: []awssim.SigningCertificate{{ID: certOld, Status: "Active", UploadedAt: created}},
				Password:            &awssim.Password{CreatedAt: created}, MFA: "virtual", MFAEnabledAt: &created,
			}),
			member(acctRecent, "recent-key", "ACTIVE", awssim.RootUser{
				AccessKeys: []awssim.AccessKey{
					{ID: keyRecent, Status: "Active", CreatedAt: created, LastUsedAt: ago(6 * day), LastUsedService: "ec2", LastUsedRegion: "eu-west-1"},
					{ID: keyUnused, Status: "Inactive", CreatedAt: created},
				},
				MFA: "virtual", MFAEnabledAt: &created,
			}),
			member(acctClean, "clean", "ACTIVE", awssim.RootUser{}),
			member(acctPassword, "password", "ACTIVE", awssim.RootUser{Password: &awssim.Password{CreatedAt: created}, MFA: "virtual", MFAEnabledAt: &created}),
			member(acctSuspend, "suspended", "SUSPENDED", awssim.RootUser{AccessKeys: []awssim.AccessKey{{ID: keySuspend, Status: "Active", CreatedAt: created}}}),
			member(acctTwoCerts, "two-certs", "ACTIVE", awssim.RootUser{
				SigningCertificates: []awssim.SigningCertificate{{ID: certA, Status: "Active", UploadedAt: created}, {ID: certB, Status: "Inactive", UploadedAt: created}},
				MFA:                 "hardware", MFAEnabledAt: &created,
			}),
		},
		Credentials: []awssim.StaticCredential{{AccessKeyID: adminKey, SecretAccessKey: adminSec, AccountID: mgmt, UserName: "admin"}},
	}
}

func virtualMFA(accountID string) string { return iamsvc.RootMFASerial(accountID, "virtual") }

// world is a running simulator and the caller's session in it.
type world struct {
	srv *awssim.Server
	cfg aws.Config
	s   *orgscan.Session
}

// startWorld serves fx on loopback until the test ends and connects its
// management account's administrator, as orgscan does.
func startWorld(t *testing.T, fx *awssim.Fixture, opts awssim.Options) *world {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Fixture = fx
	srv, err := awssim.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start the simulator: %v", err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Region: "us-east-1", EndpointURL: srv.URL(), Concurrency: 8,
		Credentials: credentials.NewStaticCredentialsProvider(adminKey, adminSec, ""),
	})
	if err != nil {
		t.Fatalf("load the SDK configuration: %v", err)
	}
	w := &world{srv: srv, cfg: cfg}
	w.connect(t)
	return w
}

// connect (again) with the world's configuration, as a new run would.
func (w *world) connect(t *testing.T) {
	t.Helper()
	s, err := orgscan.Connect(t.Context(), w.cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	w.s = s
}

func (w *world) config() remediate.Config {
	return remediate.Config{Session: w.s, Concurrency: 4, Version: "test"}
}

// mutations is the simulator's count of attempts to change IAM state.
func (w *world) mutations() int64 { return w.srv.Stats().Total("iam").Mutations }

// assumeRoots is how many sts:AssumeRoot requests the simulator received.
func (w *world) assumeRoots() int64 { return w.srv.Stats().Operations["sts:AssumeRoot"].Requests }

// rootHas tells whether the simulator's root user of an account still has
// a credential.
func (w *world) rootHas(accountID, kind, id string) bool {
	root := w.srv.RootUser(accountID)
	switch kind {
	case remediate.KindAccessKey:
		return slices.ContainsFunc(root.AccessKeys, func(k awssim.AccessKey) bool { return k.ID == id })
	case remediate.KindSigningCertificate:
		return slices.ContainsFunc(root.SigningCertificates, func(c awssim.SigningCertificate) bool { return c.ID == id })
	case remediate.KindPassword:
		return root.Password != nil
	case remediate.KindMFADevice:
		return root.MFA != "" && iamsvc.RootMFASerial(accountID, root.MFA) == id
	}
	return false
}

func plan(t *testing.T, cfg remediate.Config) *remediate.Report {
	t.Helper()
	rep, err := remediate.Plan(t.Context(), cfg)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	return rep
}

func apply(t *testing.T, ac remediate.ApplyConfig) *remediate.Report {
	t.Helper()
	rep, err := remediate.Apply(t.Context(), ac)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return rep
}

func account(t *testing.T, rep *remediate.Report, id string) *remediate.Account {
	t.Helper()
	for i := range rep.Accounts {
		if rep.Accounts[i].AccountID == id {
			return &rep.Accounts[i]
		}
	}
	t.Fatalf("account %s is not in the report", id)
	return nil
}

// action finds an account's action on a credential.
func action(t *testing.T, a *remediate.Account, kind, id string) *remediate.Action {
	t.Helper()
	for i := range a.Actions {
		if a.Actions[i].Kind == kind && a.Actions[i].ID == id {
			return &a.Actions[i]
		}
	}
	t.Fatalf("account %s has no action on %s %q: %+v", a.AccountID, kind, id, a.Actions)
	return nil
}

// outcomes summarizes an account's actions as kind/id=outcome, in order.
func outcomes(a *remediate.Account) []string {
	out := []string{}
	for _, x := range a.Actions {
		s := x.Kind
		if x.ID != "" {
			s += "/" + x.ID
		}
		s += "=" + x.Outcome
		if x.Hold != "" {
			s += ":" + x.Hold
		}
		out = append(out, s)
	}
	return out
}
