package awssim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// manyTags are more tags than one ListTagsForResource page holds.
func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("key-%02d", i)] = fmt.Sprintf("value-%02d", i)
	}
	return tags
}

// allTags follows NextToken with the SDK's paginator and returns the tags
// as key=value and how many pages it took.
func allTags(ctx context.Context, cfg aws.Config, id string) ([]string, int, error) {
	p := organizations.NewListTagsForResourcePaginator(orgsClient(cfg), &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return got, pages, err
		}
		pages++
		for _, tag := range out.Tags {
			got = append(got, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
	}
	return got, pages, nil
}

func tagStrings(tags map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, k+"="+tags[k])
	}
	return out
}

func TestListTagsForResource(t *testing.T) {
	fx := smallFixture()
	fx.Accounts[1].Tags = manyTags(25)
	fx.Accounts[2].Tags = map[string]string{"owner": "bob", "cost-center": "cc-1"}
	fx.Organization.OUs[0].Tags = map[string]string{"owner": "platform"}
	fx.Organization.RootTags = map[string]string{"org": "acme"}
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	org := orgsClient(mgmtConfig(srv))

	t.Run("an account with more tags than a page is listed in two pages", func(t *testing.T) {
		before := srv.Stats().Operations["organizations:ListTagsForResource"].Requests
		got, pages, err := allTags(ctx, mgmtConfig(srv), "222222222222")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tagStrings(fx.Accounts[1].Tags)) {
			t.Fatalf("tags = %v", got)
		}
		if pages != 2 || srv.Stats().Operations["organizations:ListTagsForResource"].Requests-before != 2 {
			t.Fatalf("took %d pages, want 2", pages)
		}
	})
	t.Run("the first page is full and carries a NextToken", func(t *testing.T) {
		out, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) != 20 || out.NextToken == nil {
			t.Fatalf("first page has %d tags and token %v", len(out.Tags), out.NextToken)
		}
		_, err = org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("333333333333"), NextToken: out.NextToken})
		wantAPIError(t, err, "InvalidInputException")
		var ie *orgtypes.InvalidInputException
		if !errors.As(err, &ie) || ie.Reason != orgtypes.InvalidInputExceptionReasonInvalidPaginationToken {
			t.Fatalf("a token of another resource: %v, want INVALID_NEXT_TOKEN", err)
		}
	})
	t.Run("an account with a few tags is listed in one page without a token", func(t *testing.T) {
		out, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("333333333333")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Tags) != 2 || out.NextToken != nil || aws.ToString(out.Tags[0].Key) != "cost-center" {
			t.Fatalf("tags = %+v, token %v", out.Tags, out.NextToken)
		}
	})
	t.Run("an OU and the root have their own tags, which their accounts do not inherit", func(t *testing.T) {
		for id, want := range map[string][]string{
			"ou-ab12-aaaaaaaa": {"owner=platform"},
			"r-ab12":           {"org=acme"},
			"ou-ab12-bbbbbbbb": nil,
			testMgmtAccount:    nil,
		} {
			got, _, err := allTags(ctx, mgmtConfig(srv), id)
			if err != nil || !slices.Equal(got, want) {
				t.Fatalf("tags of %s = %v, %v; want %v", id, got, err, want)
			}
		}
	})

	notFound := []struct{ name, id string }{
		{"an account outside the organization", "999999999999"},
		{"an OU that does not exist", "ou-ab12-zzzzzzzz"},
		{"a policy, which the simulator does not model", "p-abcdefgh12"},
	}
	for _, tc := range notFound {
		t.Run("tags of "+tc.name+" are TargetNotFoundException", func(t *testing.T) {
			_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(tc.id)})
			wantAPIError(t, err, "TargetNotFoundException")
			wantHTTPStatus(t, err, 400)
		})
	}
	malformed := []struct {
		name, id string
		reason   orgtypes.InvalidInputExceptionReason
	}{
		{"a malformed id", "account-222", orgtypes.InvalidInputExceptionReasonInvalidPattern},
		{"an account id with a thirteenth digit", "2222222222221", orgtypes.InvalidInputExceptionReasonInvalidPattern},
		{"an empty id", "", orgtypes.InvalidInputExceptionReasonInputRequired},
	}
	for _, tc := range malformed {
		t.Run(tc.name+" is InvalidInputException", func(t *testing.T) {
			_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(tc.id)})
			var ie *orgtypes.InvalidInputException
			if !errors.As(err, &ie) || ie.Reason != tc.reason {
				t.Fatalf("error = %v, want InvalidInputException with reason %s", err, tc.reason)
			}
		})
	}
}

func TestListTagsForResourceAuthorization(t *testing.T) {
	fx := smallFixture()
	fx.Accounts[1].Tags = map[string]string{"owner": "alice"}
	fx.Accounts[2].Tags = map[string]string{"owner": "bob"}
	fx.Accounts = append(fx.Accounts, Account{
		ID: "444444444444", Name: "security", Email: "sec@example.com", State: "ACTIVE", JoinedMethod: "CREATED",
		JoinedTimestamp: fx.Accounts[0].JoinedTimestamp, Parent: "r-ab12",
		Roles: []Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}},
	})
	fx.Organization.DelegatedAdministratorsByService = map[string][]string{"securityhub.amazonaws.com": {"444444444444"}}
	fx.Credentials = append(fx.Credentials,
		StaticCredential{AccessKeyID: "AKIATAGGUARD00000001", SecretAccessKey: "tagguard-secret", AccountID: testMgmtAccount, UserName: "tag-guarded",
			Deny: []DenyStatement{{
				Actions:   []string{"organizations:ListTagsForResource"},
				Resources: []string{"arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222"},
			}}},
		StaticCredential{AccessKeyID: "AKIASECADMIN00000001", SecretAccessKey: "secadmin-secret", AccountID: "444444444444", UserName: "security-admin"},
	)
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	guarded := sdkConfig(srv, "AKIATAGGUARD00000001", "tagguard-secret", "")

	tests := []struct {
		name     string
		cfg      func(t *testing.T) aws.Config
		account  string
		wantCode string
		wantMsg  string
	}{
		{"a deny statement on one account's ARN refuses its tags", func(*testing.T) aws.Config { return guarded }, "222222222222",
			"AccessDeniedException", "on resource: arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222 with an explicit deny"},
		{"the same deny statement leaves another account's tags readable", func(*testing.T) aws.Config { return guarded }, "333333333333", "", ""},
		{"a delegated administrator of any service reads tags", func(*testing.T) aws.Config {
			return sdkConfig(srv, "AKIASECADMIN00000001", "secadmin-secret", "")
		}, "222222222222", "", ""},
		{"a member account that administers nothing is refused", func(t *testing.T) aws.Config {
			return roleIn(t, srv, "222222222222")
		}, "333333333333", "AccessDeniedException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := orgsClient(tc.cfg(t)).ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(tc.account)})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, tc.wantCode, 400, tc.wantMsg)
		})
	}
}

// TestListTagsForResourceSharesTheOrganizationsQuota: tag reads draw from
// the one Organizations bucket of the calling account, so a scan that
// reads tags spends its discovery budget on them.
func TestListTagsForResourceSharesTheOrganizationsQuota(t *testing.T) {
	srv := startServer(t, Options{OrgsRate: 1, OrgsBurst: 2})
	ctx := context.Background()
	org := orgsClient(mgmtConfig(srv))
	if _, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")}); err != nil {
		t.Fatal(err)
	}
	_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("333333333333")})
	wantAPIError(t, err, "TooManyRequestsException")
	wantHTTPStatus(t, err, 400)
	if got := srv.Stats().Operations["organizations:ListTagsForResource"]; got.Requests != 2 || got.Throttled != 1 {
		t.Fatalf("stats = %+v, want 2 requests, 1 throttled", got)
	}
}
