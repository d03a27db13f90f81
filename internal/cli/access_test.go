package cli

import (
	"encoding/json"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

// TestAutoAccessFollowsTheOrganizationsFeatures: auto reads the root-access
// features once, records them in the scan block, and picks the method.
func TestAutoAccessFollowsTheOrganizationsFeatures(t *testing.T) {
	tests := []struct {
		name       string
		features   awssim.Features
		wantState  string
		wantReason bool
		wantAccess string // of member accounts
	}{
		{"enabled: root sessions", awssim.Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true}, "enabled", false, "assume-root"},
		{"disabled: the audit role", awssim.Features{IAMTrustedAccess: true}, "disabled", false, "assume-role"},
		{"not determinable without trusted access for IAM: the audit role", awssim.Features{}, "unknown", true, "assume-role"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := awssim.Generate(awssim.GenerateOptions{Seed: 4, Accounts: 6})
			fx.Organization.Features = tc.features
			s := startSim(t, fx, awssim.Options{})
			res := s.run(t, "scan", "-q", "-f", "json")
			if res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			var doc struct {
				Scan struct {
					RootAccess struct {
						Management string `json:"root_credentials_management"`
						Sessions   string `json:"root_sessions"`
						Reason     string `json:"reason"`
					} `json:"root_access"`
				} `json:"scan"`
				Accounts []struct {
					ID     string `json:"account_id"`
					Access string `json:"access_method"`
				} `json:"accounts"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
				t.Fatal(err)
			}
			ra := doc.Scan.RootAccess
			if ra.Management != tc.wantState || (ra.Reason != "") != tc.wantReason {
				t.Errorf("root_access %+v, want %s (reason given: %v)", ra, tc.wantState, tc.wantReason)
			}
			for _, a := range doc.Accounts {
				want := tc.wantAccess
				if a.ID == fx.Organization.ManagementAccountID {
					want = "caller"
				}
				if a.Access != want {
					t.Errorf("account %s accessed by %q, want %q", a.ID, a.Access, want)
				}
			}
		})
	}
}
