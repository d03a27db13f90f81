package awssim

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgscan/orgscan/examples"
)

// TestGenerateTenThousandAccounts checks the shape of a large generated
// organization; BenchmarkGenerate10000 in package fixture measures how fast
// it is made.
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
		{"centralized root access is enabled", fx.Organization.Features == Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true}},
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
