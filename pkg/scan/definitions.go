package scan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Severity ranks a finding. A report publishes each finding's severity in
// its definitions, so a team can gate on it without knowing orgscan's rules.
type Severity string

// Severities, from least to most severe.
const (
	SeverityInformational Severity = "informational"
	SeverityLow           Severity = "low"
	SeverityMedium        Severity = "medium"
	SeverityHigh          Severity = "high"
	SeverityCritical      Severity = "critical"
)

// severityOrder lists every severity, least severe first.
var severityOrder = []Severity{SeverityInformational, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Severities lists every severity, most severe first.
func Severities() []Severity {
	out := slices.Clone(severityOrder)
	slices.Reverse(out)
	return out
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	if v := Severity(s); slices.Contains(severityOrder, v) {
		return v, nil
	}
	names := make([]string, 0, len(severityOrder))
	for _, v := range Severities() {
		names = append(names, string(v))
	}
	if len(s) > 32 {
		s = s[:32] + "…"
	}
	return "", fmt.Errorf("severity %q is not known: use %s", s, strings.Join(names, ", "))
}

// Rank orders severities: informational is 1, critical 5, anything else 0.
func (s Severity) Rank() int { return slices.Index(severityOrder, s) + 1 }

// AtLeast tells whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.Rank() > 0 && s.Rank() >= min.Rank() }

// Control is a public control or benchmark recommendation a finding
// corresponds to.
type Control struct {
	Standard string `json:"standard"`
	ID       string `json:"id"`
	Title    string `json:"title"`
}

// Definition says what a finding means, how severe it is, which public
// controls it corresponds to, and how to fix it. It is the one place these
// are defined: every renderer and the README read it.
type Definition struct {
	Severity Severity `json:"severity"`
	// Summary says in one sentence what the finding means.
	Summary string `json:"summary"`
	// Controls is empty when no public control corresponds.
	Controls    []Control `json:"controls"`
	Remediation string    `json:"remediation"`
	// RequiresDetails is set for findings that only a scan with root
	// credential details can raise.
	RequiresDetails bool `json:"requires_details"`
	// RequiresContacts is set for findings that only a scan that reads the
	// accounts' security contacts can raise; left out when not.
	RequiresContacts bool `json:"requires_contacts,omitempty"`
}

// Standards named in Control.Standard.
const (
	standardSecurityHub = "AWS Security Hub"
	standardCIS3        = "CIS AWS Foundations Benchmark v3.0.0"
	standardCIS5        = "CIS AWS Foundations Benchmark v5.0.0"
)

// The control ids and titles below were checked against these documents:
//   - Security Hub: https://docs.aws.amazon.com/securityhub/latest/userguide/iam-controls.html,
//     ids and titles as prowler-cloud/prowler lists them in
//     prowler/compliance/aws/aws_foundational_security_best_practices_aws.json;
//     IAM.6's evaluation (any virtual MFA device for the root user fails) is
//     that of its AWS Config rule, https://docs.aws.amazon.com/config/latest/developerguide/root-account-hardware-mfa-enabled.html
//   - CIS: prowler-cloud/prowler prowler/compliance/aws/cis_3.0_aws.json and
//     cis_5.0_aws.json (commit 3e000faa3109230b748e4418a13c11c9e59f5cfb).
var (
	controlIAM4 = Control{standardSecurityHub, "IAM.4", "IAM root user access key should not exist"}
	controlIAM6 = Control{standardSecurityHub, "IAM.6", "Hardware MFA should be enabled for the root user"}
	controlIAM9 = Control{standardSecurityHub, "IAM.9", "MFA should be enabled for the root user"}

	cis3NoRootKey     = Control{standardCIS3, "1.4", "Ensure no 'root' user account access key exists"}
	cis3RootMFA       = Control{standardCIS3, "1.5", "Ensure MFA is enabled for the 'root' user account"}
	cis3RootHardware  = Control{standardCIS3, "1.6", "Ensure hardware MFA is enabled for the 'root' user account"}
	cis3EliminateRoot = Control{standardCIS3, "1.7", "Eliminate use of the 'root' user for administrative and daily tasks"}
	cis5NoRootKey     = Control{standardCIS5, "1.3", "Ensure no 'root' user account access key exists"}
	cis5RootMFA       = Control{standardCIS5, "1.4", "Ensure MFA is enabled for the 'root' user account"}
	cis5RootHardware  = Control{standardCIS5, "1.5", "Ensure hardware MFA is enabled for the 'root' user account"}
	cis5EliminateRoot = Control{standardCIS5, "1.6", "Eliminate use of the 'root' user for administrative and daily tasks"}

	// Account.1: https://docs.aws.amazon.com/securityhub/latest/userguide/account-controls.html#account-1
	// (its related requirements name CIS v5.0.0 1.2); CIS v3.0.0 1.2 as
	// prowler-cloud/prowler lists it in cis_3.0_aws.json.
	controlAccount1     = Control{standardSecurityHub, "Account.1", "Security contact information should be provided for an AWS account"}
	cis3SecurityContact = Control{standardCIS3, "1.2", "Ensure security contact information is registered"}
	cis5SecurityContact = Control{standardCIS5, "1.2", "Ensure security contact information is registered"}
)

// definitions holds every finding this version raises.
var definitions = map[string]Definition{
	FindingRootAccessKey: {
		Severity:    SeverityCritical,
		Summary:     "The root user has an access key.",
		Controls:    []Control{controlIAM4, cis3NoRootKey, cis5NoRootKey},
		Remediation: "Delete the root user's access keys (for a member account, with centralized root access) and give automation an IAM role instead.",
	},
	// No Security Hub control or CIS recommendation covers root signing
	// certificates.
	FindingRootSigningCertificate: {
		Severity:    SeverityHigh,
		Summary:     "The root user has an X.509 signing certificate.",
		Controls:    []Control{},
		Remediation: "Delete the root user's signing certificates (for a member account, with centralized root access).",
	},
	FindingRootNoMFA: {
		Severity:    SeverityCritical,
		Summary:     "The root user has no MFA device.",
		Controls:    []Control{controlIAM9, cis3RootMFA, cis5RootMFA},
		Remediation: "Register an MFA device for the root user, preferably a FIDO security key; for a member account, deleting its root credentials centrally also closes this.",
	},
	// A root password is not a finding in Security Hub or CIS by itself. The
	// management account's root user must keep one: centralized root access
	// manages member accounts only, https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user.html#id_root-user-access-management
	// and https://docs.aws.amazon.com/IAM/latest/APIReference/API_EnableOrganizationsRootCredentialsManagement.html
	FindingRootPassword: {
		Severity:    SeverityInformational,
		Summary:     "The root user has a console password.",
		Controls:    []Control{},
		Remediation: "Nothing for the management account, whose root user needs its password; keep it with MFA. A member account's password can be deleted with centralized root access.",
	},
	// No public control: centralized root access is newer than both
	// standards' root-user controls.
	FindingCentrallyManaged: {
		Severity:    SeverityHigh,
		Summary:     "A member account still has root credentials although the organization manages them centrally.",
		Controls:    []Control{},
		Remediation: "Delete the member account's root password, access keys and signing certificates with a root session (the IAMDeleteRootUserCredentials task policy).",
	},
	FindingKeyUsedRecently: {
		Severity:        SeverityCritical,
		Summary:         "A root access key was used recently.",
		Controls:        []Control{controlIAM4, cis3NoRootKey, cis3EliminateRoot, cis5NoRootKey, cis5EliminateRoot},
		Remediation:     "Find what uses the key (its last used service and region, CloudTrail), move that to an IAM role, then delete the key.",
		RequiresDetails: true,
	},
	// No public control asks for rotation of root credentials: they should
	// not exist at all.
	FindingCredentialOld: {
		Severity:        SeverityMedium,
		Summary:         "A root access key or certificate is older than the maximum age.",
		Controls:        []Control{},
		Remediation:     "Delete the old root access key or signing certificate rather than rotate it.",
		RequiresDetails: true,
	},
	// Low, where Security Hub rates Account.1 medium: orgscan's severities
	// rank how exposed the root user is, and a missing security contact
	// exposes nothing; it delays AWS's security notices to the team that
	// should act on them (they go to the root user's address instead).
	// Not informational either: unlike the management account's root
	// password, it is a gap that AWS and CIS ask every account to close,
	// and the default --fail-severity (low) should see it.
	FindingNoSecurityContact: {
		Severity:         SeverityLow,
		Summary:          "The account has no security alternate contact.",
		Controls:         []Control{controlAccount1, cis3SecurityContact, cis5SecurityContact},
		Remediation:      "Set the account's SECURITY alternate contact to a team address that is watched (Account Management PutAlternateContact; for a member account, from the management account).",
		RequiresContacts: true,
	},
	FindingRootVirtualMFA: {
		Severity:        SeverityMedium,
		Summary:         "A virtual MFA device is assigned to the root user.",
		Controls:        []Control{controlIAM6, cis3RootHardware, cis5RootHardware},
		Remediation:     "Register a hardware MFA device (a FIDO security key or a hardware TOTP token) for the root user and remove the virtual one.",
		RequiresDetails: true,
	},
}

// Definitions returns every finding's definition by finding id. The map is
// the caller's to keep.
func Definitions() map[string]Definition {
	out := make(map[string]Definition, len(definitions))
	for id, d := range definitions {
		d.Controls = slices.Clone(d.Controls)
		out[id] = d
	}
	return out
}

// FindingIDs lists every finding id, most severe first, then by name.
func FindingIDs() []string {
	ids := slices.Collect(maps.Keys(definitions))
	slices.SortFunc(ids, func(a, b string) int {
		if d := definitions[b].Severity.Rank() - definitions[a].Severity.Rank(); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return ids
}

// DefinitionOf returns a finding's definition; false for an id this
// version does not know (a report written by a newer orgscan).
func DefinitionOf(id string) (Definition, bool) {
	d, ok := definitions[id]
	if ok {
		d.Controls = slices.Clone(d.Controls)
	}
	return d, ok
}

// severityOf is a finding's severity; "" for an id this version does not
// know.
func severityOf(id string) Severity { return definitions[id].Severity }

// HighestSeverity is the most severe of the findings' known severities; ""
// when there are none.
func HighestSeverity(findings []string) Severity {
	var top Severity
	for _, f := range findings {
		if s := severityOf(f); s.Rank() > top.Rank() {
			top = s
		}
	}
	return top
}

// AnyAtLeast tells whether any of the findings is as severe as min or more.
// A finding this version does not know counts: a gate that cannot judge a
// finding must not let it pass.
func AnyAtLeast(findings []string, min Severity) bool {
	for _, f := range findings {
		s := severityOf(f)
		if s == "" || s.AtLeast(min) {
			return true
		}
	}
	return false
}

// HasFindingsAtLeast tells whether any account of the report has a finding
// as severe as min or more.
func (r *Report) HasFindingsAtLeast(min Severity) bool {
	for row := range r.Rows().All() {
		if AnyAtLeast(row.Findings, min) {
			return true
		}
	}
	return false
}
