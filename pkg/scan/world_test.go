package scan_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// world is a simulator and the real SDK clients pointed at it, as the
// management account's administrator.
type world struct{ *simtest.World }

func newWorld(t *testing.T, fx *awssim.Fixture, opts awssim.Options) *world {
	t.Helper()
	return &world{simtest.Start(t, fx, opts, 8)}
}

func (w *world) roleMethod(roleName, externalID string) scan.Method {
	return assume.NewRoleMethod(w.STS, assume.RoleOptions{
		Template: assume.RoleNameTemplate(roleName), Partition: w.Caller.Partition,
		ExternalID: externalID, SessionName: assume.SessionName(w.Caller), Duration: 15 * time.Minute,
	})
}

func (w *world) rootMethod() scan.Method {
	return assume.NewRootMethod(w.STS, assume.RootOptions{Partition: w.Caller.Partition})
}

// config is a scan of the whole organization by role.
func (w *world) config() scan.Config {
	return scan.Config{
		Orgs:                w.Organizations,
		IAM:                 w.IAM,
		Methods:             []scan.Method{w.roleMethod(awssim.DefaultRoleName, "")},
		CallerAccountID:     w.Caller.AccountID,
		Concurrency:         8,
		AccountTimeout:      10 * time.Second,
		ManagementAccountID: w.Fixture.Organization.ManagementAccountID,
		Now:                 func() time.Time { return time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC) },
	}
}

func (w *world) run(t *testing.T, cfg scan.Config) *scan.Result {
	t.Helper()
	res, err := scan.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if res.Err != nil {
		t.Fatalf("scan result error: %v", res.Err)
	}
	return res
}

func rowsByID(rows []scan.Row) map[string]scan.Row {
	m := make(map[string]scan.Row, len(rows))
	for _, r := range rows {
		m[r.AccountID] = r
	}
	return m
}

func ptr[T any](v T) *T { return &v }

var joined = time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	mgmtID   = "111111111111"
	mgmtKey  = "AKIATESTMGMT00000001"
	mgmtPass = "test/management/secret/0000000000000000"
	roleName = "OrganizationAccountAccessRole"
)

// member is an ACTIVE account with the audit role trusting management.
func member(id, name, parent string, root awssim.RootUser) awssim.Account {
	return awssim.Account{
		ID: id, Name: name, Email: name + "@example.com", State: "ACTIVE", JoinedMethod: "CREATED",
		JoinedTimestamp: joined, Parent: parent, Root: root,
		Roles: []awssim.Role{{Name: roleName, TrustedAccounts: []string{mgmtID}}},
	}
}

// handWorld is a small organization with every kind of account.
//
//	Root                  management (111111111111)
//	Root/Security         security (222222222222): MFA only
//	Root/Workloads/Prod   prod (333333333333): root key + cert, no MFA
//	Root/Workloads/Dev    dev (444444444444): password, no MFA
//	Root/Workloads/Dev    suspended (555555555555): SUSPENDED
//	Root/Sandbox          invited (666666666666): role missing
//	Root/Sandbox          untrusting (777777777777): role trusts another account
func handWorld() *awssim.Fixture {
	return &awssim.Fixture{
		Organization: awssim.Organization{
			ID: "o-handworld1", RootID: "r-hw01", ManagementAccountID: mgmtID,
			OUs: []awssim.OU{
				{ID: "ou-hw01-security", Name: "Security", Parent: "r-hw01"},
				{ID: "ou-hw01-workload", Name: "Workloads", Parent: "r-hw01"},
				{ID: "ou-hw01-prodprod", Name: "Prod", Parent: "ou-hw01-workload"},
				{ID: "ou-hw01-devdevde", Name: "Dev", Parent: "ou-hw01-workload"},
				{ID: "ou-hw01-sandboxx", Name: "Sandbox", Parent: "r-hw01"},
			},
			Features: awssim.Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
		},
		Accounts: []awssim.Account{
			{ID: mgmtID, Name: "management", Email: "mgmt@example.com", State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: joined, Parent: "r-hw01",
				Root: awssim.RootUser{MFA: "hardware", Password: &awssim.Password{CreatedAt: joined}}},
			member("222222222222", "security", "ou-hw01-security", awssim.RootUser{MFA: "virtual"}),
			member("333333333333", "prod", "ou-hw01-prodprod", awssim.RootUser{
				AccessKeys:          []awssim.AccessKey{{ID: "AKIAROOTPROD00000001", Status: "Active", CreatedAt: joined, LastUsedAt: ptr(time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)), LastUsedService: "s3", LastUsedRegion: "eu-west-1"}},
				SigningCertificates: []awssim.SigningCertificate{{ID: "CERTPROD000000000000000000000001", Status: "Active", UploadedAt: joined}},
			}),
			member("444444444444", "dev", "ou-hw01-devdevde", awssim.RootUser{Password: &awssim.Password{CreatedAt: joined}}),
			func() awssim.Account {
				a := member("555555555555", "suspended", "ou-hw01-devdevde", awssim.RootUser{})
				a.State = "SUSPENDED"
				return a
			}(),
			func() awssim.Account {
				a := member("666666666666", "invited", "ou-hw01-sandboxx", awssim.RootUser{MFA: "virtual"})
				a.JoinedMethod, a.Roles = "INVITED", nil
				return a
			}(),
			func() awssim.Account {
				a := member("777777777777", "untrusting", "ou-hw01-sandboxx", awssim.RootUser{MFA: "virtual"})
				a.Roles[0].TrustedAccounts = []string{"999999999999"}
				return a
			}(),
		},
		Credentials: []awssim.StaticCredential{{AccessKeyID: mgmtKey, SecretAccessKey: mgmtPass, AccountID: mgmtID, UserName: "admin"}},
	}
}
