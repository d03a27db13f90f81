package auth

import (
	"net/http"
	"strings"

	"github.com/orgscan/orgscan/internal/awssim/wire"
)

// ExplicitDeny answers a request that one of the caller's Deny statements
// matches, worded as AWS words an explicit deny in an identity-based policy
// (IAM User Guide, "Troubleshoot access denied error messages":
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html).
// Organizations sends it as AccessDeniedException, the only access error
// its service model lists for the read operations (botocore
// organizations/2016-11-28/service-2.json).
func ExplicitDeny(caller *Principal, action, resource string) error {
	if Denied(caller, action, resource) {
		return wire.Errorf(http.StatusBadRequest, "AccessDeniedException",
			"User: %s is not authorized to perform: %s on resource: %s with an explicit deny in an identity-based policy",
			caller.ARN, action, resource)
	}
	return nil
}

// Denied tells whether one of the caller's Deny statements matches the
// action on the resource.
func Denied(caller *Principal, action, resource string) bool {
	for _, d := range caller.Deny {
		// Action names are case-insensitive in policies; resource ARNs are not.
		if matchesAny(d.Actions, action, true) && matchesAny(d.Resources, resource, false) {
			return true
		}
	}
	return false
}

func matchesAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against a policy pattern in which * stands for
// any run of characters and ? for one.
func wildcardMatch(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			pattern = strings.TrimLeft(pattern, "*")
			if pattern == "" {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if wildcardMatch(pattern, s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
			pattern, s = pattern[1:], s[1:]
		}
	}
	return s == ""
}
