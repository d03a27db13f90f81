package scan

import "time"

// Thresholds for the findings that root credential details add.
type Thresholds struct {
	RecentDays int // a root key used within this many days is in use
	MaxAgeDays int // a root credential older than this is old
}

// partitionGovCloud is the AWS GovCloud (US) partition.
const partitionGovCloud = "aws-us-gov"

type findingContext struct {
	partition        string
	member           bool // not the management account
	centrallyManaged bool
	now              time.Time
	thresholds       Thresholds
}

func isTrue(b *bool) bool { return b != nil && *b }

// findings derives the row's findings from what was read.
func findings(r *Row, fc findingContext) []string {
	var out []string
	hasCredential := isTrue(r.RootAccessKeys) || isTrue(r.RootSigningCertificates) || isTrue(r.RootPassword)
	if isTrue(r.RootAccessKeys) {
		out = append(out, FindingRootAccessKey)
	}
	if isTrue(r.RootSigningCertificates) {
		out = append(out, FindingRootSigningCertificate)
	}
	// Without MFA, whoever controls the root e-mail address can reset the
	// password and sign in. Centralized root access blocks that recovery
	// for member accounts, so there MFA matters only while a credential
	// exists.
	mfaMatters := hasCredential || !(fc.member && fc.centrallyManaged)
	// "You cannot enable an MFA device for your AWS GovCloud (US) account
	// root user": https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/govcloud-iam.html
	mfaPossible := fc.partition != partitionGovCloud
	if r.RootMFA != nil && !*r.RootMFA && mfaMatters && mfaPossible {
		out = append(out, FindingRootNoMFA)
	}
	if isTrue(r.RootPassword) {
		out = append(out, FindingRootPassword)
	}
	if fc.member && fc.centrallyManaged && hasCredential {
		out = append(out, FindingCentrallyManaged)
	}
	if d := r.RootCredentials; d != nil {
		out = append(out, detailFindings(d, fc)...)
		// IAM.6 and CIS "hardware MFA for root" fail when any virtual
		// device may sign the root user in, as the AWS Config rule behind
		// IAM.6 evaluates. Unknown (nil) is never raised.
		if isTrue(d.MFA.Virtual) && mfaMatters && mfaPossible {
			out = append(out, FindingRootVirtualMFA)
		}
	}
	return out
}

func detailFindings(d *RootCredentials, fc findingContext) []string {
	var out []string
	day := 24 * time.Hour
	if fc.thresholds.RecentDays > 0 {
		recent := fc.now.Add(-time.Duration(fc.thresholds.RecentDays) * day)
		for _, k := range d.AccessKeys {
			if k.LastUsedAt != nil && k.LastUsedAt.After(recent) {
				out = append(out, FindingKeyUsedRecently)
				break
			}
		}
	}
	if fc.thresholds.MaxAgeDays > 0 {
		oldest := fc.now.Add(-time.Duration(fc.thresholds.MaxAgeDays) * day)
		old := func(t *time.Time) bool { return t != nil && t.Before(oldest) }
		isOld := false
		for _, k := range d.AccessKeys {
			isOld = isOld || old(k.CreatedAt)
		}
		for _, c := range d.SigningCertificates {
			isOld = isOld || old(c.UploadedAt)
		}
		if isOld {
			out = append(out, FindingCredentialOld)
		}
	}
	return out
}
