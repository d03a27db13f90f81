package awssim

import (
	"strings"
	"testing"
)

// TestCLIConformanceTagsAndContacts drives ListTagsForResource and
// GetAlternateContact, the two reads that tell who owns an account, with
// the AWS CLI: its paging of tags past one page, and every error each
// answers with.
func TestCLIConformanceTagsAndContacts(t *testing.T) {
	fx := Generate(GenerateOptions{Seed: 8, Accounts: 12, AccountTags: true, SecurityContacts: true})
	many, plain, noContact := fx.Accounts[1], fx.Accounts[2], fx.Accounts[10]
	fx.Credentials = append(fx.Credentials, StaticCredential{
		AccessKeyID: "AKIACLITAGGUARD00001", SecretAccessKey: "tagguardsecrettagguardsecrettagguardsec", AccountID: DefaultManagementAccountID, UserName: "tag-guarded",
		Deny: []DenyStatement{{
			Actions:   []string{"organizations:ListTagsForResource"},
			Resources: []string{"arn:aws:organizations::*:account/*/" + plain.ID},
		}},
	})
	srv := startServer(t, Options{Fixture: fx})
	admin := [3]string{DefaultAccessKeyID, DefaultSecretAccessKey, ""}
	guarded := [3]string{"AKIACLITAGGUARD00001", "tagguardsecrettagguardsecrettagguardsec", ""}

	type tagsOut struct {
		Tags      []struct{ Key, Value string }
		NextToken string
	}
	t.Run("organizations list-tags-for-resource follows NextToken past the first page", func(t *testing.T) {
		var out tagsOut
		before := srv.Stats().Operations["organizations:ListTagsForResource"].Requests
		cliJSON(t, srv, admin, &out, "organizations", "list-tags-for-resource", "--resource-id", many.ID)
		if len(out.Tags) != len(many.Tags) || out.NextToken != "" {
			t.Fatalf("listed %d tags (token %q), want all %d", len(out.Tags), out.NextToken, len(many.Tags))
		}
		for _, tag := range out.Tags {
			if many.Tags[tag.Key] != tag.Value {
				t.Fatalf("tag %s=%s is not the fixture's", tag.Key, tag.Value)
			}
		}
		if n := srv.Stats().Operations["organizations:ListTagsForResource"].Requests - before; n != 2 {
			t.Fatalf("the CLI made %d requests for %d tags, want 2 pages", n, len(many.Tags))
		}
	})
	t.Run("organizations list-tags-for-resource with --max-items resumes from --starting-token", func(t *testing.T) {
		var first, rest tagsOut
		cliJSON(t, srv, admin, &first, "organizations", "list-tags-for-resource", "--resource-id", many.ID, "--max-items", "5")
		if len(first.Tags) != 5 || first.NextToken == "" {
			t.Fatalf("--max-items 5 gave %d tags and token %q", len(first.Tags), first.NextToken)
		}
		cliJSON(t, srv, admin, &rest, "organizations", "list-tags-for-resource", "--resource-id", many.ID, "--starting-token", first.NextToken)
		if len(first.Tags)+len(rest.Tags) != len(many.Tags) || rest.Tags[0].Key == first.Tags[4].Key {
			t.Fatalf("resumed with %d more tags, want the other %d", len(rest.Tags), len(many.Tags)-5)
		}
	})
	t.Run("organizations list-tags-for-resource lists an account's owner, team and cost center", func(t *testing.T) {
		var out tagsOut
		cliJSON(t, srv, admin, &out, "organizations", "list-tags-for-resource", "--resource-id", plain.ID)
		if len(out.Tags) != 3 || out.Tags[0].Key != "cost-center" || out.Tags[1].Key != "owner" || out.Tags[2].Key != "team" {
			t.Fatalf("tags = %+v", out.Tags)
		}
	})

	failures := []struct {
		name  string
		creds [3]string
		args  []string
		want  []string
	}{
		{"list-tags-for-resource of an unknown account is TargetNotFoundException", admin,
			[]string{"organizations", "list-tags-for-resource", "--resource-id", "999999999999"}, []string{"TargetNotFoundException"}},
		{"list-tags-for-resource of a malformed id is InvalidInputException", admin,
			[]string{"organizations", "list-tags-for-resource", "--resource-id", "acct-1"}, []string{"InvalidInputException"}},
		{"list-tags-for-resource denied on the account's ARN is AccessDeniedException", guarded,
			[]string{"organizations", "list-tags-for-resource", "--resource-id", plain.ID}, []string{"AccessDeniedException", "explicit deny", "account/" + fx.Organization.ID + "/" + plain.ID}},
		{"get-alternate-contact of a member without one is ResourceNotFoundException", admin,
			[]string{"account", "get-alternate-contact", "--alternate-contact-type", "SECURITY", "--account-id", noContact.ID}, []string{"ResourceNotFoundException"}},
		{"get-alternate-contact naming the management account itself is AccessDeniedException", admin,
			[]string{"account", "get-alternate-contact", "--alternate-contact-type", "SECURITY", "--account-id", DefaultManagementAccountID}, []string{"AccessDeniedException"}},
		{"get-alternate-contact of an unknown type is ValidationException", admin,
			[]string{"account", "get-alternate-contact", "--alternate-contact-type", "LEGAL", "--account-id", plain.ID}, []string{"ValidationException"}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := awsCLI(t, srv, tc.creds, tc.args...)
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Fatalf("output %s; want it to contain %q", out, w)
				}
			}
		})
	}

	type contactOut struct {
		AlternateContact struct{ AlternateContactType, EmailAddress, Name, PhoneNumber, Title string }
	}
	t.Run("account get-alternate-contact reads a member's security contact from the management account", func(t *testing.T) {
		var out contactOut
		cliJSON(t, srv, admin, &out, "account", "get-alternate-contact", "--alternate-contact-type", "SECURITY", "--account-id", plain.ID)
		want := plain.AlternateContacts.Security
		if c := out.AlternateContact; c.AlternateContactType != "SECURITY" || c.Name != want.Name || c.EmailAddress != want.Email ||
			c.Title != want.Title || c.PhoneNumber != want.Phone {
			t.Fatalf("contact = %+v, want %+v", c, want)
		}
	})
	t.Run("account get-alternate-contact without --account-id reads the caller's own", func(t *testing.T) {
		var out contactOut
		cliJSON(t, srv, admin, &out, "account", "get-alternate-contact", "--alternate-contact-type", "SECURITY")
		if out.AlternateContact.Name != fx.Accounts[0].AlternateContacts.Security.Name {
			t.Fatalf("contact = %+v", out.AlternateContact)
		}
	})
	t.Run("account get-alternate-contact for a member without trusted access is AccessDeniedException", func(t *testing.T) {
		noTrust := Generate(GenerateOptions{Seed: 8, Accounts: 3, SecurityContacts: true})
		noTrust.Organization.TrustedAccess = nil
		noTrustSrv := startServer(t, Options{Fixture: noTrust})
		out, err := awsCLI(t, noTrustSrv, admin, "account", "get-alternate-contact", "--alternate-contact-type", "SECURITY", "--account-id", noTrust.Accounts[1].ID)
		if err == nil || !strings.Contains(out, "AccessDeniedException") || !strings.Contains(out, "account:GetAlternateContact") {
			t.Fatalf("err %v, output %s", err, out)
		}
	})
	t.Run("account get-alternate-contact is TooManyRequestsException past its rate", func(t *testing.T) {
		limited := startServer(t, Options{Fixture: fx, AccountRate: 0.001, AccountBurst: 1})
		if out, err := awsCLI(t, limited, admin, "account", "get-alternate-contact", "--alternate-contact-type", "SECURITY"); err != nil {
			t.Fatalf("first call: %v\n%s", err, out)
		}
		out, err := awsCLI(t, limited, admin, "account", "get-alternate-contact", "--alternate-contact-type", "SECURITY")
		if err == nil || !strings.Contains(out, "TooManyRequestsException") {
			t.Fatalf("err %v, output %s", err, out)
		}
	})
}
