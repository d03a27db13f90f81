package scan_test

import (
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/scan"
)

// TestRootRowAsDocumentedThenAndNow: the root user's password_enabled is
// TRUE or FALSE in today's IAM User Guide and was not_supported before; an
// inactive key's last_rotated is documented as N/A, so its last use is what
// shows it. Every form is read, none is guessed.
func TestRootRowAsDocumentedThenAndNow(t *testing.T) {
	const header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
	row := func(passwordEnabled, key2Rotated, key2Used string) string {
		return header + "<root_account>,arn:aws:iam::123456789012:root,2019-05-05T10:00:00+00:00," + passwordEnabled +
			",no_information,not_supported,not_supported,true,true,2021-02-03T04:05:06+00:00,N/A,N/A,N/A,false," +
			key2Rotated + "," + key2Used + ",N/A,N/A,false,N/A,false,N/A\n"
	}
	used := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		csv          string
		wantPassword *bool
		wantKeys     int
		wantKey2Used *time.Time
	}{
		{"TRUE is a password", row("TRUE", "N/A", "N/A"), ptr(true), 1, nil},
		{"FALSE is none", row("FALSE", "N/A", "N/A"), ptr(false), 1, nil},
		{"lower-case true, as reports write it", row("true", "N/A", "N/A"), ptr(true), 1, nil},
		{"not_supported, the older answer, is unknown", row("not_supported", "N/A", "N/A"), nil, 1, nil},
		{"an inactive key with its rotation date is a key", row("FALSE", "2020-05-06T10:20:30+00:00", "N/A"), ptr(false), 2, nil},
		{"an inactive key without a rotation date but used is a key", row("FALSE", "N/A", "2024-01-01T00:00:00+00:00"), ptr(false), 2, &used},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := scan.ParseCredentialReport([]byte(tc.csv), time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			if got := rc.Password.Present; (got == nil) != (tc.wantPassword == nil) || (got != nil && *got != *tc.wantPassword) {
				t.Errorf("password present %v, want %v", fmtBool(got), fmtBool(tc.wantPassword))
			}
			if len(rc.AccessKeys) != tc.wantKeys {
				t.Fatalf("keys %+v, want %d", rc.AccessKeys, tc.wantKeys)
			}
			if tc.wantKey2Used != nil {
				k := rc.AccessKeys[1]
				if k.Active || k.CreatedAt != nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(*tc.wantKey2Used) {
					t.Errorf("inactive key: %+v", k)
				}
			}
		})
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "unknown"
	}
	if *b {
		return "true"
	}
	return "false"
}

// TestInactiveKeyWithTheDocumentedNAIsStillReported: a credential report
// that writes N/A as an inactive key's last_rotated, as the User Guide
// documents it, still shows a used inactive key in the details, and the
// row's root_access_keys, from the account summary, still counts a key that
// the report cannot show at all.
func TestInactiveKeyWithTheDocumentedNAIsStillReported(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	used := now.Add(-30 * 24 * time.Hour)
	fx := handWorld()
	usedKey := member("100000000011", "inactive-used", "r-hw01", awssim.RootUser{MFA: "hardware",
		AccessKeys: []awssim.AccessKey{{ID: "AKIAINACTIVEUSED0001", Status: "Inactive", CreatedAt: joined, LastUsedAt: &used, LastUsedService: "s3"}}})
	usedKey.CredentialReport.InactiveRotationNA = true
	unusedKey := member("100000000012", "inactive-unused", "r-hw01", awssim.RootUser{MFA: "hardware",
		AccessKeys: []awssim.AccessKey{{ID: "AKIAINACTIVEUNUSED01", Status: "Inactive", CreatedAt: joined}}})
	unusedKey.CredentialReport.InactiveRotationNA = true
	fx.Accounts = append(fx.Accounts, usedKey, unusedKey)

	w := newWorld(t, fx, awssim.Options{Now: func() time.Time { return now }})
	cfg := w.config()
	cfg.Now = func() time.Time { return now }
	cfg.Details = scan.NewDetailsReader(w.IAM, cfg.Now)
	rows := rowsByID(w.run(t, cfg).Rows)

	t.Run("a used inactive key is in the details, with its last use and no creation time", func(t *testing.T) {
		r := rows["100000000011"]
		if r.RootCredentials == nil || len(r.RootCredentials.AccessKeys) != 1 {
			t.Fatalf("row %+v", r)
		}
		k := r.RootCredentials.AccessKeys[0]
		if k.Active || k.CreatedAt != nil || k.LastUsedAt == nil || !k.LastUsedAt.Equal(used) {
			t.Errorf("key %+v", k)
		}
		if r.RootAccessKeys == nil || !*r.RootAccessKeys {
			t.Errorf("root_access_keys %v, want true", fmtBool(r.RootAccessKeys))
		}
	})
	t.Run("a never used inactive key still counts in root_access_keys", func(t *testing.T) {
		r := rows["100000000012"]
		if r.RootAccessKeys == nil || !*r.RootAccessKeys {
			t.Errorf("root_access_keys %v, want true (row %+v)", fmtBool(r.RootAccessKeys), r)
		}
	})
}
