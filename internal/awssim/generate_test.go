package awssim

import (
	"bytes"
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgscan/orgscan/examples"
)

func TestGenerateIsDeterministicAndValid(t *testing.T) {
	base := GenerateOptions{Seed: 42, Accounts: 500, OUDepth: 3, OUWidth: 3, RootKeys: 0.1, RootCerts: 0.05,
		NoMFA: 0.2, Passwords: 0.3, MissingRole: 0.05, Inactive: 0.02, Hang: 0.01, DelegatedAdministrator: true}
	tests := []struct {
		name string
		opts GenerateOptions
	}{
		{"a nested organization with every kind of account", base},
		{"a single management account", GenerateOptions{Seed: 1, Accounts: 1}},
		{"accounts directly under the root", GenerateOptions{Seed: 2, Accounts: 50}},
		{"a wide flat layer of OUs", GenerateOptions{Seed: 3, Accounts: 200, OUDepth: 1, OUWidth: 40}},
		{"every member with every problem", GenerateOptions{Seed: 4, Accounts: 30, OUDepth: 2, OUWidth: 2,
			RootKeys: 1, RootCerts: 1, NoMFA: 1, Passwords: 1, MissingRole: 1, Inactive: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.opts.Validate(); err != nil {
				t.Fatalf("options: %v", err)
			}
			a, b := Generate(tc.opts), Generate(tc.opts)
			if err := a.Validate(); err != nil {
				t.Fatalf("generated fixture is invalid: %v", err)
			}
			if !reflect.DeepEqual(a, b) {
				t.Fatal("the same options generated two different fixtures")
			}
			if len(a.Accounts) != tc.opts.Accounts {
				t.Fatalf("%d accounts, want %d", len(a.Accounts), tc.opts.Accounts)
			}
			mgmt := a.Accounts[0]
			if mgmt.ID != DefaultManagementAccountID || a.Organization.ManagementAccountID != mgmt.ID {
				t.Fatalf("first account %s is not the management account %s", mgmt.ID, a.Organization.ManagementAccountID)
			}
			cred, err := a.ManagementCredential()
			if err != nil || cred.AccessKeyID != DefaultAccessKeyID || cred.SecretAccessKey != DefaultSecretAccessKey {
				t.Fatalf("management credential = %+v, %v", cred, err)
			}
			if len(a.Buckets) != 1 || a.Buckets[0].Name != DefaultReportBucket || a.Buckets[0].OwnerID != mgmt.ID {
				t.Fatalf("buckets = %+v", a.Buckets)
			}
			if f := a.Organization.Features; !f.IAMTrustedAccess || !f.RootCredentialsManagement || !f.RootSessions {
				t.Fatalf("centralized root access is off by default: %+v", f)
			}
		})
	}
	t.Run("another seed gives another organization", func(t *testing.T) {
		other := base
		other.Seed++
		if reflect.DeepEqual(Generate(base), Generate(other)) {
			t.Fatal("seeds 42 and 43 generated the same fixture")
		}
	})
}

func TestGenerateHonoursTheOptions(t *testing.T) {
	opts := GenerateOptions{Seed: 9, Accounts: 1001, OUDepth: 3, OUWidth: 2, RootKeys: 0.1, RootCerts: 0.05,
		NoMFA: 0.2, Passwords: 0.3, MissingRole: 0.04, Inactive: 0.02, Hang: 0.01, RoleName: "AuditRole"}
	fx := Generate(opts)
	members := fx.Accounts[1:]
	count := func(pred func(Account) bool) int {
		n := 0
		for _, a := range members {
			if pred(a) {
				n++
			}
		}
		return n
	}
	hasRole := func(a Account) bool {
		for _, r := range a.Roles {
			if r.Name == "AuditRole" && len(r.TrustedAccounts) == 1 && r.TrustedAccounts[0] == DefaultManagementAccountID {
				return true
			}
		}
		return false
	}
	depth := func(parent string) int {
		d := 0
		for parent != fx.Organization.RootID {
			for _, ou := range fx.Organization.OUs {
				if ou.ID == parent {
					parent = ou.Parent
					break
				}
			}
			d++
		}
		return d
	}
	tests := []struct {
		name      string
		got, want int
	}{
		{"a tenth of the members have root access keys", count(func(a Account) bool { return len(a.Root.AccessKeys) > 0 }), 100},
		{"a twentieth of the members have root signing certificates", count(func(a Account) bool { return len(a.Root.SigningCertificates) > 0 }), 50},
		{"a fifth of the members have no root MFA", count(func(a Account) bool { return a.Root.MFA == "" }), 200},
		{"three tenths of the members have a root password", count(func(a Account) bool { return a.Root.Password != nil }), 300},
		{"the members without the role joined by invitation", count(func(a Account) bool { return !hasRole(a) && a.JoinedMethod == "INVITED" }), 40},
		{"every other member has the named role", count(hasRole), 960},
		{"a fiftieth of the members are not active", count(func(a Account) bool { return a.State != "ACTIVE" }), 20},
		{"a hundredth of the members hang", count(func(a Account) bool { return a.Faults.Hang }), 10},
		{"three levels of two OUs make fourteen OUs", len(fx.Organization.OUs), 14},
		{"the deepest OU is three levels down", func() int {
			deepest := 0
			for _, ou := range fx.Organization.OUs {
				deepest = max(deepest, depth(ou.ID))
			}
			return deepest
		}(), 3},
		{"every OU holds members", func() int {
			parents := map[string]bool{}
			for _, a := range members {
				parents[a.Parent] = true
			}
			return len(parents)
		}(), 14},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %d, want %d", tc.got, tc.want)
			}
		})
	}
	t.Run("centralized root access can be turned off", func(t *testing.T) {
		off := Generate(GenerateOptions{Seed: 1, Accounts: 3, NoCentralRootAccess: true})
		if f := off.Organization.Features; f.RootCredentialsManagement || f.RootSessions || f.IAMTrustedAccess {
			t.Fatalf("features = %+v, want all off", f)
		}
	})
	t.Run("a delegated administrator gets its own credential", func(t *testing.T) {
		da := Generate(GenerateOptions{Seed: 1, Accounts: 3, DelegatedAdministrator: true})
		if len(da.Organization.DelegatedAdministrators) != 1 || len(da.Credentials) != 2 ||
			da.Credentials[1].AccountID != da.Organization.DelegatedAdministrators[0] {
			t.Fatalf("delegated administrators %v, credentials %+v", da.Organization.DelegatedAdministrators, da.Credentials)
		}
	})
}

func TestGenerateOptionsValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    GenerateOptions
		wantErr string
	}{
		{"no accounts is refused", GenerateOptions{Accounts: 0}, "want at least 1"},
		{"a negative depth is refused", GenerateOptions{Accounts: 5, OUDepth: -1}, "must not be negative"},
		{"depth without width is refused", GenerateOptions{Accounts: 5, OUDepth: 2}, "want at least 1"},
		{"an explosion of OUs is refused", GenerateOptions{Accounts: 5, OUDepth: 10, OUWidth: 10}, "more than"},
		{"a fraction above one is refused", GenerateOptions{Accounts: 5, RootKeys: 1.5}, "root keys fraction"},
		{"a negative fraction is refused", GenerateOptions{Accounts: 5, Inactive: -0.1}, "inactive fraction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.wantErr)
			}
			if fx := Generate(tc.opts); fx.Validate() != nil {
				t.Fatalf("Generate did not clamp the options into a valid fixture: %v", fx.Validate())
			}
		})
	}
}

// TestGenerateTenThousandAccounts checks the shape of a large generated
// organization; BenchmarkGenerate10000 measures how fast it is made.
func TestGenerateTenThousandAccounts(t *testing.T) {
	opts := GenerateOptions{Seed: 1, Accounts: 10_000, OUDepth: 3, OUWidth: 4, RootKeys: 0.05, NoMFA: 0.1, Passwords: 0.2, MissingRole: 0.02, Inactive: 0.01}
	fx := Generate(opts)
	if err := fx.Validate(); err != nil {
		t.Fatalf("generated fixture is invalid: %v", err)
	}
	perParent := map[string]int{}
	for _, a := range fx.Accounts {
		perParent[a.Parent]++
	}
	for parent, n := range perParent {
		if parent != fx.Organization.RootID && n <= 20 {
			t.Fatalf("OU %s holds %d accounts; a large organization should need several pages per OU", parent, n)
		}
	}

	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	org := organizations.NewFromConfig(adminConfig(srv))
	p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{})
	total := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(page.Accounts)
	}
	if total != 10_000 {
		t.Fatalf("listed %d accounts, want 10000", total)
	}
}

func BenchmarkGenerate10000(b *testing.B) {
	for b.Loop() {
		Generate(GenerateOptions{Seed: 1, Accounts: 10_000, OUDepth: 3, OUWidth: 4, RootKeys: 0.05})
	}
}

func TestDemoWorld(t *testing.T) {
	fx, err := LoadFixture("../../examples/demo-world.json")
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := os.ReadFile("../../examples/demo-world.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, examples.DemoWorld) {
		t.Fatal("examples.DemoWorld is not the demo-world.json on disk")
	}
	if _, err := ReadFixture(bytes.NewReader(examples.DemoWorld)); err != nil {
		t.Fatalf("embedded demo world: %v", err)
	}
	byName := map[string]Account{}
	for _, a := range fx.Accounts {
		byName[a.Name] = a
	}
	ouPath := func(id string) string {
		var names []string
		for id != fx.Organization.RootID {
			found := false
			for _, ou := range fx.Organization.OUs {
				if ou.ID == id {
					names = append([]string{ou.Name}, names...)
					id, found = ou.Parent, true
					break
				}
			}
			if !found {
				return "?"
			}
		}
		return strings.Join(append([]string{"Root"}, names...), "/")
	}
	lacksOrgRole := func(a Account) bool {
		for _, r := range a.Roles {
			if r.Name == DefaultRoleName {
				return false
			}
		}
		return true
	}
	count := func(pred func(Account) bool) int {
		n := 0
		for _, a := range fx.Accounts {
			if pred(a) {
				n++
			}
		}
		return n
	}
	mgmt := fx.Organization.ManagementAccountID
	tests := []struct {
		name string
		ok   bool
	}{
		{"it has between 12 and 16 accounts", len(fx.Accounts) >= 12 && len(fx.Accounts) <= 16},
		{"payments-prod sits in Root/Workloads/Prod", ouPath(byName["payments-prod"].Parent) == "Root/Workloads/Prod"},
		{"orders-dev sits in Root/Workloads/Dev", ouPath(byName["orders-dev"].Parent) == "Root/Workloads/Dev"},
		{"log-archive sits in Root/Security", ouPath(byName["log-archive"].Parent) == "Root/Security"},
		{"sandbox-alice sits in Root/Sandbox", ouPath(byName["sandbox-alice"].Parent) == "Root/Sandbox"},
		{"exactly one account is suspended", count(func(a Account) bool { return a.State == "SUSPENDED" }) == 1},
		{"one invited account lacks OrganizationAccountAccessRole", count(func(a Account) bool {
			return a.ID != mgmt && a.JoinedMethod == "INVITED" && lacksOrgRole(a)
		}) == 1},
		{"one root key was used recently and one old key is inactive",
			count(func(a Account) bool {
				for _, k := range a.Root.AccessKeys {
					if k.Status == "Active" && k.LastUsedAt != nil && k.LastUsedAt.After(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
						return true
					}
				}
				return false
			}) == 1 && count(func(a Account) bool {
				for _, k := range a.Root.AccessKeys {
					if k.Status == "Inactive" && k.LastUsedAt != nil && k.LastUsedAt.Before(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) {
						return true
					}
				}
				return false
			}) == 1},
		{"some root users have signing certificates", count(func(a Account) bool { return len(a.Root.SigningCertificates) > 0 }) >= 2},
		{"root MFA is hardware, virtual and missing across accounts",
			count(func(a Account) bool { return a.Root.MFA == "hardware" }) > 0 && count(func(a Account) bool { return a.Root.MFA == "virtual" }) > 0 &&
				count(func(a Account) bool { return a.Root.MFA == "" }) > 0},
		{"some root users have passwords", count(func(a Account) bool { return a.Root.Password != nil }) >= 3},
		{"centralized root access is enabled", fx.Organization.Features == Features{true, true, true}},
		{"the report bucket belongs to the management account", len(fx.Buckets) == 1 && fx.Buckets[0].Name == DefaultReportBucket && fx.Buckets[0].OwnerID == mgmt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Fatal("the demo world does not have this property")
			}
		})
	}

	t.Run("the management credential works against a simulator serving it", func(t *testing.T) {
		cred, err := fx.ManagementCredential()
		if err != nil {
			t.Fatal(err)
		}
		srv := startServer(t, Options{Fixture: fx})
		id, err := sts.NewFromConfig(sdkConfig(srv, cred.AccessKeyID, cred.SecretAccessKey, "")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil || aws.ToString(id.Account) != mgmt {
			t.Fatalf("GetCallerIdentity = %v, %v", id, err)
		}
	})
}
