package scan_test

import (
	"slices"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
)

var simNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// detailsWorld holds root users of every shape --details must describe.
func detailsWorld() *awssim.Fixture {
	fx := handWorld()
	recent := simNow.Add(-3 * 24 * time.Hour)
	pwUsed := simNow.Add(-40 * 24 * time.Hour)
	old := time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)
	cached := simNow.Add(-2 * time.Hour)
	expired := simNow.Add(-5 * time.Hour)
	fx.Accounts = append(fx.Accounts,
		member("100000000001", "everything", "r-hw01", awssim.RootUser{
			AccessKeys: []awssim.AccessKey{
				{ID: "AKIAEVERYTHING000001", Status: "Active", CreatedAt: old, LastUsedAt: &recent, LastUsedService: "ec2", LastUsedRegion: "eu-central-1"},
				{ID: "AKIAEVERYTHING000002", Status: "Inactive", CreatedAt: simNow.Add(-10 * 24 * time.Hour)},
			},
			SigningCertificates: []awssim.SigningCertificate{
				{ID: "CERTEVERYTHING00000000000000001", Status: "Active", UploadedAt: old},
				{ID: "CERTEVERYTHING00000000000000002", Status: "Inactive", UploadedAt: simNow.Add(-24 * time.Hour)},
			},
			MFA:      "virtual",
			Password: &awssim.Password{CreatedAt: old, LastUsedAt: &pwUsed},
		}),
		member("100000000002", "clean", "r-hw01", awssim.RootUser{MFA: "hardware"}),
		func() awssim.Account {
			a := member("100000000003", "slow-report", "r-hw01", awssim.RootUser{MFA: "virtual"})
			a.CredentialReport.GenerationPolls = 3
			return a
		}(),
		func() awssim.Account {
			a := member("100000000004", "cached-report", "r-hw01", awssim.RootUser{MFA: "virtual"})
			a.CredentialReport.GeneratedAt = &cached
			return a
		}(),
		func() awssim.Account {
			a := member("100000000005", "expired-report", "r-hw01", awssim.RootUser{MFA: "virtual"})
			a.CredentialReport.GeneratedAt = &expired
			return a
		}(),
	)
	return fx
}

func detailsScan(t *testing.T, useRoot bool) map[string]scan.Row {
	t.Helper()
	w := newWorld(t, detailsWorld(), awssim.Options{Now: func() time.Time { return simNow }})
	cfg := w.config()
	cfg.Now = func() time.Time { return simNow }
	cfg.Methods = []scan.Method{w.roleMethod(roleName, "")}
	if useRoot {
		cfg.Methods = []scan.Method{w.rootMethod()}
	}
	d := scan.NewDetailsReader(w.IAM, cfg.Now)
	cfg.Details = d
	cfg.Thresholds = scan.Thresholds{RecentDays: 90, MaxAgeDays: 365}
	rows := rowsByID(w.run(t, cfg).Rows)
	for id, r := range rows {
		if r.Status == scan.StatusOK && r.RootCredentials == nil {
			t.Errorf("%s: ok row without root credential details", id)
		}
	}
	return rows
}

func TestDetailsFromBothSources(t *testing.T) {
	for _, tc := range []struct {
		name     string
		useRoot  bool
		source   string
		keyIDs   bool // the source can see key and certificate ids
		mfaTypes bool
	}{
		{"credential report in an assumed role", false, scan.SourceCredentialReport, false, false},
		{"root session", true, scan.SourceRootSession, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := detailsScan(t, tc.useRoot)
			rc := rows["100000000001"].RootCredentials
			if rc == nil || rc.Source != tc.source {
				t.Fatalf("details %+v, want source %s", rc, tc.source)
			}
			if len(rc.AccessKeys) != 2 || len(rc.SigningCertificates) != 2 {
				t.Fatalf("want 2 keys and 2 certificates, got %+v", rc)
			}
			active, inactive := rc.AccessKeys[0], rc.AccessKeys[1]
			if !active.Active || inactive.Active {
				t.Errorf("key states: %+v, %+v", active, inactive)
			}
			if active.LastUsedAt == nil || active.LastUsedService != "ec2" || active.LastUsedRegion != "eu-central-1" {
				t.Errorf("used key lacks its last use: %+v", active)
			}
			if inactive.LastUsedAt != nil || inactive.LastUsedService != "" {
				t.Errorf("never-used key shows a use: %+v", inactive)
			}
			if active.CreatedAt == nil || !active.CreatedAt.Equal(time.Date(2019, 1, 2, 3, 4, 5, 0, time.UTC)) {
				t.Errorf("key age: %v", active.CreatedAt)
			}
			if (active.ID == "AKIAEVERYTHING000001") != tc.keyIDs || (rc.SigningCertificates[0].ID != "") != tc.keyIDs {
				t.Errorf("key id visibility: key %q certificate %q, want visible=%v", active.ID, rc.SigningCertificates[0].ID, tc.keyIDs)
			}
			if !isTrue(rc.Password.Present) || rc.Password.LastUsedAt == nil {
				t.Errorf("password: %+v", rc.Password)
			}
			if !isTrue(rc.MFA.Enabled) {
				t.Errorf("mfa: %+v", rc.MFA)
			}
			if tc.mfaTypes && (len(rc.MFA.Devices) != 1 || rc.MFA.Devices[0].Type != "virtual") {
				t.Errorf("mfa devices: %+v", rc.MFA.Devices)
			}
			findings := rows["100000000001"].Findings
			for _, f := range []string{scan.FindingKeyUsedRecently, scan.FindingCredentialOld} {
				if !slices.Contains(findings, f) {
					t.Errorf("findings %v lack %s", findings, f)
				}
			}

			clean := rows["100000000002"].RootCredentials
			if len(clean.AccessKeys) != 0 || len(clean.SigningCertificates) != 0 || isTrue(clean.Password.Present) {
				t.Errorf("clean root user: %+v", clean)
			}
			if tc.mfaTypes && (len(clean.MFA.Devices) != 1 || clean.MFA.Devices[0].Type != "hardware") {
				t.Errorf("hardware mfa: %+v", clean.MFA.Devices)
			}
		})
	}
}

func TestCredentialReportStates(t *testing.T) {
	rows := detailsScan(t, false)
	for _, tc := range []struct {
		name, account string
		asOf          time.Time
	}{
		{"a report still in progress is waited for", "100000000003", simNow},
		{"a cached report keeps its real generation time", "100000000004", simNow.Add(-2 * time.Hour)},
		{"an expired report is generated anew", "100000000005", simNow},
		{"an account with no report gets one", "100000000002", simNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rows[tc.account]
			if r.Status != scan.StatusOK {
				t.Fatalf("row %+v", r)
			}
			if got := r.RootCredentials.AsOf; !got.Equal(tc.asOf) {
				t.Errorf("as_of %s, want %s", got, tc.asOf)
			}
		})
	}
}

func isTrue(b *bool) bool { return b != nil && *b }

func TestParseCredentialReportOddValues(t *testing.T) {
	csv := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
		"alice,arn:aws:iam::123456789012:user/alice,2020-01-01T00:00:00+00:00,true,2026-01-01T00:00:00+00:00,N/A,N/A,true,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"<root_account>,arn:aws:iam::123456789012:root,2019-05-05T10:00:00+00:00,not_supported,no_information,not_supported,not_supported,false,false,2021-02-03T04:05:06+00:00,N/A,N/A,N/A,true,2022-02-03T04:05:06+00:00,2026-11-01T00:00:00+00:00,us-east-1,iam,false,N/A,false,N/A\n"
	gen := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	rc, err := scan.ParseCredentialReport([]byte(csv), gen)
	if err != nil {
		t.Fatal(err)
	}
	if rc.Password.Present != nil || rc.Password.LastUsedAt != nil {
		t.Errorf("not_supported and no_information must be unknown, got %+v", rc.Password)
	}
	if len(rc.AccessKeys) != 2 || rc.AccessKeys[0].Active || rc.AccessKeys[0].LastUsedAt != nil || rc.AccessKeys[0].LastUsedService != "" {
		t.Errorf("inactive, never-used key 1: %+v", rc.AccessKeys)
	}
	if k := rc.AccessKeys[1]; !k.Active || k.LastUsedService != "iam" || k.LastUsedRegion != "us-east-1" {
		t.Errorf("key 2: %+v", k)
	}
	if len(rc.SigningCertificates) != 0 || !rc.AsOf.Equal(gen) {
		t.Errorf("certificates %+v as_of %s", rc.SigningCertificates, rc.AsOf)
	}
	if _, err := scan.ParseCredentialReport([]byte("user,arn\nalice,x\n"), gen); err == nil {
		t.Error("a report without <root_account> must be an error")
	}
}
