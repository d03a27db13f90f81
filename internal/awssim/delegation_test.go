package awssim

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim/world"
)

// TestEveryFixtureInTheRepositoryLoadsUnchanged: the per-service delegated
// administrators, the feature set and the STS regions are additions; every
// world written before them loads as it did, its delegated administrators
// keeping IAM's powers.
func TestEveryFixtureInTheRepositoryLoadsUnchanged(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".json") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(`"root_id"`)) && bytes.Contains(b, []byte(`"accounts"`)) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("found no fixture files; the demo world at least should be one")
	}
	for _, path := range files {
		t.Run(path+" loads and its delegated administrators keep IAM's powers", func(t *testing.T) {
			fx, err := LoadFixture(path)
			if err != nil {
				t.Fatal(err)
			}
			w := world.New(fx)
			for _, id := range fx.Organization.DelegatedAdministrators {
				if !w.IsOrgAdministrator(id) || !w.IsIAMAdministrator(id) {
					t.Errorf("delegated administrator %s: organizations reader %v, IAM %v; want both", id, w.IsOrgAdministrator(id), w.IsIAMAdministrator(id))
				}
			}
		})
	}

	for _, opts := range []GenerateOptions{
		{Seed: 1, Accounts: 50, OUDepth: 2, OUWidth: 3},
		{Seed: 2, Accounts: 20, DelegatedAdministrator: true},
		{Seed: 3, Accounts: 20, NoCentralRootAccess: true, RootKeys: 0.3, Passwords: 0.3},
	} {
		t.Run("a generated world survives a round trip through JSON", func(t *testing.T) {
			fx := Generate(opts)
			b, err := json.Marshal(fx)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ReadFixture(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if !reflect.DeepEqual(fx.Organization, back.Organization) || len(back.Accounts) != len(fx.Accounts) {
				t.Fatalf("organization changed in the round trip:\n%+v\n%+v", fx.Organization, back.Organization)
			}
		})
	}
}

func TestFixtureRejectsImpossibleDelegationFeatureSetsAndRegions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(fx *Fixture)
		errHas string
	}{
		{"a delegated administrator outside the organization", func(fx *Fixture) {
			fx.Organization.DelegatedAdministratorsByService = map[string][]string{"securityhub.amazonaws.com": {"999999999999"}}
		}, "999999999999"},
		{"an empty service principal", func(fx *Fixture) {
			fx.Organization.DelegatedAdministratorsByService = map[string][]string{"": {fx.Accounts[1].ID}}
		}, "service principal"},
		{"an unknown feature set", func(fx *Fixture) { fx.Organization.FeatureSet = "SOME" }, "feature set"},
		{"centralized root access without all features", func(fx *Fixture) {
			fx.Organization.FeatureSet = FeatureSetConsolidatedBilling
			fx.Organization.Features = Features{IAMTrustedAccess: true}
		}, "all features"},
		{"STS deactivated in us-east-1", func(fx *Fixture) { fx.Accounts[1].STSInactiveRegions = []string{"us-east-1"} }, "us-east-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			fx := smallFixture()
			tc.mutate(fx)
			err := fx.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.errHas) {
				t.Fatalf("err %v, want one naming %q", err, tc.errHas)
			}
		})
	}
}

// TestCredentialReportInactiveCredentialsAsDocumented: with the fixture's
// inactive_rotation_na, an inactive key or certificate has N/A as its
// last_rotated, as the User Guide documents the column, while its last use
// still shows.
func TestCredentialReportInactiveCredentialsAsDocumented(t *testing.T) {
	fx := iamFixture()
	for i := range fx.Accounts {
		if fx.Accounts[i].ID == acctRich || fx.Accounts[i].ID == acctOdd {
			fx.Accounts[i].CredentialReport.InactiveRotationNA = true
		}
	}
	clock := &iamClock{t: iamEpoch}
	srv := startServer(t, Options{Fixture: fx, Now: clock.Now})
	for _, tc := range []struct {
		name, account string
		want          map[string]string
	}{
		{"an inactive key never used has neither date", acctRich, map[string]string{
			"password_enabled": "true", "access_key_1_active": "true", "access_key_1_last_rotated": "2021-02-03T10:20:30+00:00",
			"access_key_2_active": "false", "access_key_2_last_rotated": "N/A", "access_key_2_last_used_date": "N/A",
			"cert_1_active": "true", "cert_1_last_rotated": "2022-03-04T10:20:30+00:00",
		}},
		{"an inactive certificate has no date", acctOdd, map[string]string{
			"cert_1_active": "false", "cert_1_last_rotated": "N/A",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, rows := readReport(t, roleIn(t, srv, tc.account))
			row := rows["<root_account>"]
			for col, want := range tc.want {
				if row[col] != want {
					t.Errorf("%s = %q, want %q", col, row[col], want)
				}
			}
		})
	}
}
