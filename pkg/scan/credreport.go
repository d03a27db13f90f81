package scan

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"time"
)

// rootAccountUser is the credential report's name for the root user.
const rootAccountUser = "<root_account>"

// errNoRootRow means a credential report has no <root_account> row.
var errNoRootRow = errors.New("credential report has no <root_account> row")

// parseCredentialReport reads the root user's row of an IAM credential
// report (CSV, documented columns in any order). AWS writes N/A for a
// credential that does not exist, not_supported for what does not apply to
// the root user and no_information for what it did not record: all three
// become unknown (nil), never a zero time or a false. The root user's
// password_enabled is TRUE or FALSE in today's User Guide and was
// not_supported before; both are read.
func parseCredentialReport(data []byte, generatedAt time.Time) (*RootCredentials, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("credential report header: %w", err)
	}
	col := make(map[string]int, len(header))
	for i, name := range header {
		col[name] = i
	}
	if _, ok := col["user"]; !ok {
		return nil, errors.New("credential report header has no user column")
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil, errNoRootRow
		}
		if err != nil {
			return nil, fmt.Errorf("credential report: %w", err)
		}
		field := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if field("user") != rootAccountUser {
			continue
		}
		return rootFromReport(field, generatedAt)
	}
}

func rootFromReport(field func(string) string, generatedAt time.Time) (*RootCredentials, error) {
	rc := &RootCredentials{
		Source:              SourceCredentialReport,
		AsOf:                generatedAt.UTC(),
		AccessKeys:          []AccessKeyDetail{},
		SigningCertificates: []CertificateDetail{},
		MFA:                 MFADetail{Enabled: reportBool(field("mfa_active")), Devices: []MFADevice{}},
		Password:            PasswordDetail{Present: reportBool(field("password_enabled")), LastUsedAt: reportTime(field("password_last_used"))},
	}
	for i := 1; i <= 2; i++ {
		p := fmt.Sprintf("access_key_%d_", i)
		active := reportBool(field(p + "active"))
		rotated := reportTime(field(p + "last_rotated"))
		lastUsed := reportTime(field(p + "last_used_date"))
		// An inactive key is still a key. Some reports give it its
		// rotation time; the User Guide documents last_rotated as N/A for
		// a key that is not active, which leaves its last use (N/A only
		// for a missing or never used key) to show it.
		if !isTrue(active) && rotated == nil && lastUsed == nil {
			continue
		}
		rc.AccessKeys = append(rc.AccessKeys, AccessKeyDetail{
			Active:          isTrue(active),
			CreatedAt:       rotated,
			LastUsedAt:      lastUsed,
			LastUsedService: reportString(field(p + "last_used_service")),
			LastUsedRegion:  reportString(field(p + "last_used_region")),
		})
	}
	for i := 1; i <= 2; i++ {
		p := fmt.Sprintf("cert_%d_", i)
		active := reportBool(field(p + "active"))
		rotated := reportTime(field(p + "last_rotated"))
		if !isTrue(active) && rotated == nil {
			continue
		}
		rc.SigningCertificates = append(rc.SigningCertificates, CertificateDetail{Active: isTrue(active), UploadedAt: rotated})
	}
	return rc, nil
}

func reportBool(s string) *bool {
	switch s {
	case "true", "TRUE", "True":
		b := true
		return &b
	case "false", "FALSE", "False":
		b := false
		return &b
	}
	return nil
}

func reportTime(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil
	}
	t = t.UTC()
	return &t
}

func reportString(s string) string {
	switch s {
	case "N/A", "not_supported", "no_information":
		return ""
	}
	return s
}
