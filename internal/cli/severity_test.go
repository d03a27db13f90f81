package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
)

// passwordOnlyWorld is an organization whose only finding is the
// management account's root password, which its root user must keep.
func passwordOnlyWorld(t *testing.T) *awssim.Fixture {
	t.Helper()
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 5})
	for i := range fx.Accounts {
		a := &fx.Accounts[i]
		if a.ID == fx.Organization.ManagementAccountID {
			a.Root.MFA = "hardware"
			a.Root.Password = &awssim.Password{CreatedAt: fixedNow.AddDate(-1, 0, 0)}
		}
	}
	return fx
}

func TestFailSeverityGatesFindings(t *testing.T) {
	fx := passwordOnlyWorld(t)
	s := startSim(t, fx, awssim.Options{})
	// The world must be what it claims: one finding, the management
	// account's password.
	res := s.run(t, "scan", "-q", "-f", "json")
	var doc struct {
		Accounts []scan.Row `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("exit %d: %v\n%s", res.code, err, res.stderr)
	}
	var all []string
	for _, r := range doc.Accounts {
		for _, f := range r.Findings {
			all = append(all, r.AccountID+":"+f)
		}
	}
	if want := fx.Organization.ManagementAccountID + ":" + scan.FindingRootPassword; len(all) != 1 || all[0] != want {
		t.Fatalf("findings %v, want only %s", all, want)
	}
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"the management account's password passes --fail-on-findings", []string{"--fail-on-findings"}, exitOK},
		{"it fails with --fail-severity informational", []string{"--fail-on-findings", "--fail-severity", "informational"}, exitFindings},
		{"the default threshold is low", []string{"--fail-on-findings", "--fail-severity", "low"}, exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.run(t, append([]string{"scan", "-q", "-f", "json"}, tc.args...)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tc.want, res.stderr)
			}
		})
	}
}

func TestFailSeverityBadInput(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "r.json")
	if err := os.WriteFile(report, []byte(`{"schema_version":"1","scan":{},"accounts":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, passwordOnlyWorld(t), awssim.Options{})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"scan: an unknown severity", []string{"scan", "--fail-on-findings", "--fail-severity", "severe"}, "severe"},
		{"scan: a severity without --fail-on-findings", []string{"scan", "--fail-severity", "high"}, "--fail-on-findings"},
		{"diff: an unknown severity", []string{"diff", "--fail-severity", "HIGH", report, report}, "HIGH"},
		{"diff: a severity with --fail-on any-change", []string{"diff", "--fail-on", "any-change", "--fail-severity", "high", report, report}, "any-change"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.requests()
			res := s.run(t, tc.args...)
			if res.code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr: %s", res.code, res.stderr)
			}
			msg := strings.TrimSuffix(res.stderr, "\n")
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("want one line naming %q, got %q", tc.want, res.stderr)
			}
			if s.requests() != before {
				t.Errorf("bad input made %d AWS requests", s.requests()-before)
			}
		})
	}
}

func TestDiffFailSeverity(t *testing.T) {
	oldPath := filepath.Join("..", "..", "pkg", "diff", "testdata", "report-v1-before-finding-definitions.json")
	raw, err := os.ReadFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// One scanned account gains a root password: informational.
	added := false
	for _, a := range doc["accounts"].([]any) {
		row := a.(map[string]any)
		fs, _ := row["findings"].([]any)
		if !added && row["status"] == scan.StatusOK && len(fs) == 0 {
			row["findings"], added = []any{scan.FindingRootPassword}, true
		}
	}
	if !added {
		t.Fatal("no clean scanned account in the old report")
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	newPath := filepath.Join(t.TempDir(), "new.json")
	if err := os.WriteFile(newPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, passwordOnlyWorld(t), awssim.Options{})
	for _, tc := range []struct {
		name string
		args []string
		want int
	}{
		{"a new informational finding passes by default", nil, exitOK},
		{"it fails with --fail-severity informational", []string{"--fail-severity", "informational"}, exitFindings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := s.run(t, append(append([]string{"diff"}, tc.args...), oldPath, newPath)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tc.want, res.stderr)
			}
		})
	}
}
