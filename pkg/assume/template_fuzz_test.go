package assume

import (
	"strings"
	"testing"
)

// FuzzValidateRoleTemplate: a template that validates expands, for any
// account, to a role ARN in that account.
func FuzzValidateRoleTemplate(f *testing.F) {
	for _, s := range []string{
		"arn:{partition}:iam::{account_id}:role/Audit",
		"arn:aws:iam::{account_id}:role/path/to/Audit",
		"arn:aws:iam::123456789012:role/Audit",
		"arn:aws:s3:::{account_id}",
		"arn:{partition}:iam::{account_id}:role/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, template string) {
		if ValidateRoleTemplate(template) != nil {
			return
		}
		arn := expandTemplate(template, "aws-cn", "210987654321")
		parts := strings.SplitN(arn, ":", 6)
		if len(parts) != 6 || parts[4] != "210987654321" || !strings.HasPrefix(parts[5], "role/") {
			t.Fatalf("template %q expands to %q", template, arn)
		}
	})
}
