package sts

import "testing"

func TestParseRoleARN(t *testing.T) {
	tests := []struct {
		name, in string
		want     roleARN
		ok       bool
	}{
		{"a role at the root path", "arn:aws:iam::123456789012:role/Audit", roleARN{"123456789012", "/", "Audit"}, true},
		{"a role under a path", "arn:aws:iam::123456789012:role/a/b/Audit", roleARN{"123456789012", "/a/b/", "Audit"}, true},
		{"another partition", "arn:aws-us-gov:iam::123456789012:role/Audit", roleARN{"123456789012", "/", "Audit"}, true},
		{"a user is not a role", "arn:aws:iam::123456789012:user/Audit", roleARN{}, false},
		{"a short account id", "arn:aws:iam::12345:role/Audit", roleARN{}, false},
		{"a trailing slash has no name", "arn:aws:iam::123456789012:role/a/", roleARN{}, false},
		{"not an ARN", "OrganizationAccountAccessRole", roleARN{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseRoleARN(tc.in)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseRoleARN(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}
