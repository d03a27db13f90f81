package cli

import (
	"encoding/json"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

// TestRootAccessByWhoRunsTheScan: a delegated administrator of any service
// may list the organization and scan it through the audit role, but only
// IAM's may read the root access features and open root sessions; an
// organization without all features has none, and the report says why.
func TestRootAccessByWhoRunsTheScan(t *testing.T) {
	daCred := awssim.StaticCredential{AccessKeyID: "AKIACLIDELEGATED0001", SecretAccessKey: "delegatedsecretdelegatedsecretdelegated0", UserName: "security-admin"}
	tests := []struct {
		name       string
		byService  map[string][]string // "DA" stands for the delegated account
		legacy     bool
		featureSet string
		asDA       bool
		wantState  string
		wantReason string
		wantAccess string
	}{
		{"IAM's delegated administrator, in the old list, opens root sessions", nil, true, "", true, "enabled", "", "assume-root"},
		{"IAM's delegated administrator, by service principal, opens root sessions", map[string][]string{"iam.amazonaws.com": {"DA"}}, false, "", true, "enabled", "", "assume-root"},
		{"another service's delegated administrator scans by role, the features unknown", map[string][]string{"securityhub.amazonaws.com": {"DA"}}, false, "", true, "unknown", "the caller is neither the management account nor the delegated administrator for IAM", "assume-role"},
		{"an organization without all features scans by role, the features unknown", nil, false, awssim.FeatureSetConsolidatedBilling, false, "unknown", "the organization does not have all features enabled, which centralized root access needs", "assume-role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := awssim.Generate(awssim.GenerateOptions{Seed: 9, Accounts: 6})
			da := fx.Accounts[1].ID
			cred := daCred
			cred.AccountID = da
			fx.Credentials = append(fx.Credentials, cred)
			for i := range fx.Accounts {
				for j := range fx.Accounts[i].Roles {
					fx.Accounts[i].Roles[j].TrustedAccounts = append(fx.Accounts[i].Roles[j].TrustedAccounts, da)
				}
			}
			if tc.legacy {
				fx.Organization.DelegatedAdministrators = []string{da}
			}
			if tc.byService != nil {
				fx.Organization.DelegatedAdministratorsByService = map[string][]string{}
				for svc := range tc.byService {
					fx.Organization.DelegatedAdministratorsByService[svc] = []string{da}
				}
			}
			if tc.featureSet != "" {
				fx.Organization.FeatureSet = tc.featureSet
				fx.Organization.Features = awssim.Features{}
			}
			s := startSim(t, fx, awssim.Options{})
			var res result
			if tc.asDA {
				res = s.runAs(t, cred, "scan", "-q", "-f", "json")
			} else {
				res = s.run(t, "scan", "-q", "-f", "json")
			}
			var doc struct {
				Scan struct {
					RootAccess struct {
						Management string `json:"root_credentials_management"`
						Reason     string `json:"reason"`
					} `json:"root_access"`
				} `json:"scan"`
				Accounts []struct {
					ID     string `json:"account_id"`
					Access string `json:"access_method"`
					Status string `json:"status"`
				} `json:"accounts"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
				t.Fatalf("exit %d, stderr %s: %v", res.code, res.stderr, err)
			}
			ra := doc.Scan.RootAccess
			if ra.Management != tc.wantState || ra.Reason != tc.wantReason {
				t.Errorf("root_access %+v, want %s with the reason %q", ra, tc.wantState, tc.wantReason)
			}
			caller := fx.Organization.ManagementAccountID
			if tc.asDA {
				caller = da
			}
			for _, a := range doc.Accounts {
				if a.ID == caller || a.ID == fx.Organization.ManagementAccountID {
					continue
				}
				if a.Status != "ok" || a.Access != tc.wantAccess {
					t.Errorf("account %s: %s by %q, want ok by %q", a.ID, a.Status, a.Access, tc.wantAccess)
				}
			}
		})
	}
}
