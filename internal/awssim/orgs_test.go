package awssim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/smithy-go"
)

// wantAPIError fails unless err is an AWS error with the given code.
func wantAPIError(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v, want AWS error %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error code = %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
}

func orgsClient(cfg aws.Config) *organizations.Client { return organizations.NewFromConfig(cfg) }

func TestOrganizationsDescribesTheWorld(t *testing.T) {
	fx := smallFixture()
	fx.Accounts[1].Tags = map[string]string{"team": "payments", "env": "prod"}
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	org := orgsClient(mgmtConfig(srv))
	joined := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

	t.Run("DescribeOrganization names the organization and its management account", func(t *testing.T) {
		out, err := org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if err != nil {
			t.Fatal(err)
		}
		o := out.Organization
		want := []string{"o-abcdefghij", "arn:aws:organizations::111111111111:organization/o-abcdefghij", "111111111111",
			"arn:aws:organizations::111111111111:account/o-abcdefghij/111111111111", "mgmt@example.com", "ALL"}
		got := []string{aws.ToString(o.Id), aws.ToString(o.Arn), aws.ToString(o.MasterAccountId),
			aws.ToString(o.MasterAccountArn), aws.ToString(o.MasterAccountEmail), string(o.FeatureSet)}
		if !slices.Equal(got, want) {
			t.Fatalf("organization = %q, want %q", got, want)
		}
	})
	t.Run("ListRoots returns the one root with its ARN", func(t *testing.T) {
		out, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Roots) != 1 || aws.ToString(out.Roots[0].Id) != "r-ab12" ||
			aws.ToString(out.Roots[0].Arn) != "arn:aws:organizations::111111111111:root/o-abcdefghij/r-ab12" || out.NextToken != nil {
			t.Fatalf("roots = %+v, next %v", out.Roots, out.NextToken)
		}
	})
	t.Run("ListOrganizationalUnitsForParent walks the nested OUs", func(t *testing.T) {
		for parent, want := range map[string]string{"r-ab12": "ou-ab12-aaaaaaaa", "ou-ab12-aaaaaaaa": "ou-ab12-bbbbbbbb"} {
			out, err := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.OrganizationalUnits) != 1 || aws.ToString(out.OrganizationalUnits[0].Id) != want {
				t.Fatalf("children of %s = %+v, want %s", parent, out.OrganizationalUnits, want)
			}
		}
		out, err := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("ou-ab12-aaaaaaaa")})
		if err != nil {
			t.Fatal(err)
		}
		ou := out.OrganizationalUnits[0]
		if aws.ToString(ou.Name) != "Prod" || aws.ToString(ou.Path) != "o-abcdefghij/r-ab12/ou-ab12-aaaaaaaa/ou-ab12-bbbbbbbb/" ||
			aws.ToString(ou.Arn) != "arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-bbbbbbbb" {
			t.Fatalf("ou = %+v", ou)
		}
	})
	t.Run("ListAccountsForParent returns every field of the accounts in an OU", func(t *testing.T) {
		out, err := org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-ab12-bbbbbbbb")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Accounts) != 2 {
			t.Fatalf("accounts = %+v, want 2", out.Accounts)
		}
		a, b := out.Accounts[0], out.Accounts[1]
		if aws.ToString(a.Id) != "222222222222" || aws.ToString(a.Name) != "prod-a" || aws.ToString(a.Email) != "a@example.com" ||
			a.State != orgtypes.AccountStateActive || a.Status != orgtypes.AccountStatusActive || a.JoinedMethod != orgtypes.AccountJoinedMethodCreated ||
			aws.ToString(a.Arn) != "arn:aws:organizations::111111111111:account/o-abcdefghij/222222222222" || !aws.ToTime(a.JoinedTimestamp).Equal(joined) {
			t.Fatalf("first account = %+v", a)
		}
		if b.State != orgtypes.AccountStateSuspended || b.Status != orgtypes.AccountStatusSuspended || b.JoinedMethod != orgtypes.AccountJoinedMethodInvited {
			t.Fatalf("second account = %+v", b)
		}
	})
	t.Run("ListAccounts returns every account", func(t *testing.T) {
		out, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, a := range out.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
		if !slices.Equal(ids, []string{"111111111111", "222222222222", "333333333333"}) || out.NextToken != nil {
			t.Fatalf("accounts = %v, next %v", ids, out.NextToken)
		}
	})
	t.Run("DescribeAccount returns one account", func(t *testing.T) {
		out, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("333333333333")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account.Name) != "prod-b" || out.Account.State != orgtypes.AccountStateSuspended {
			t.Fatalf("account = %+v", out.Account)
		}
	})
	t.Run("ListParents names an account's OU and an OU's root", func(t *testing.T) {
		for child, want := range map[string]orgtypes.Parent{
			"222222222222":     {Id: aws.String("ou-ab12-bbbbbbbb"), Type: orgtypes.ParentTypeOrganizationalUnit},
			"ou-ab12-aaaaaaaa": {Id: aws.String("r-ab12"), Type: orgtypes.ParentTypeRoot},
			"111111111111":     {Id: aws.String("r-ab12"), Type: orgtypes.ParentTypeRoot},
		} {
			out, err := org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(child)})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Parents) != 1 || aws.ToString(out.Parents[0].Id) != aws.ToString(want.Id) || out.Parents[0].Type != want.Type {
				t.Fatalf("parents of %s = %+v, want %+v", child, out.Parents, want)
			}
		}
	})
	t.Run("ListTagsForResource returns an account's tags sorted by key", func(t *testing.T) {
		out, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("222222222222")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tag := range out.Tags {
			got = append(got, aws.ToString(tag.Key)+"="+aws.ToString(tag.Value))
		}
		if !slices.Equal(got, []string{"env=prod", "team=payments"}) {
			t.Fatalf("tags = %v", got)
		}
		out, err = org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("ou-ab12-aaaaaaaa")})
		if err != nil || len(out.Tags) != 0 {
			t.Fatalf("ou tags = %+v, %v; want none", out, err)
		}
	})
}

func TestOrganizationsAccountStates(t *testing.T) {
	fx := smallFixture()
	states := []struct {
		state, status string
		omit          bool
	}{
		{"ACTIVE", "ACTIVE", false},
		{"SUSPENDED", "SUSPENDED", false},
		{"PENDING_CLOSURE", "PENDING_CLOSURE", false},
		{"CLOSED", "SUSPENDED", false},
		{"PENDING_ACTIVATION", "ACTIVE", false},
		{"CLOSED", "SUSPENDED", true},
	}
	joined := time.Date(2021, 6, 7, 8, 9, 10, 500_000_000, time.UTC)
	for i, st := range states {
		fx.Accounts = append(fx.Accounts, Account{
			ID: fmt.Sprintf("5000000000%02d", i), Name: "state", Email: "s@example.com",
			State: st.state, OmitState: st.omit, JoinedMethod: "CREATED", JoinedTimestamp: joined, Parent: "r-ab12",
		})
	}
	srv := startServer(t, Options{Fixture: fx})
	org := orgsClient(mgmtConfig(srv))
	for i, st := range states {
		name := "a " + st.state + " account reports legacy status " + st.status
		if st.omit {
			name = "an account answered as before State existed has only the legacy status"
		}
		t.Run(name, func(t *testing.T) {
			id := fx.Accounts[3+i].ID
			out, err := org.DescribeAccount(context.Background(), &organizations.DescribeAccountInput{AccountId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			wantState := st.state
			if st.omit {
				wantState = ""
			}
			if string(out.Account.Status) != st.status || string(out.Account.State) != wantState {
				t.Fatalf("status %q state %q, want %q %q", out.Account.Status, out.Account.State, st.status, wantState)
			}
			if !aws.ToTime(out.Account.JoinedTimestamp).Equal(joined) {
				t.Fatalf("joined %v, want %v (fractional epoch seconds)", aws.ToTime(out.Account.JoinedTimestamp), joined)
			}
		})
	}
}

// bigOUFixture has every member account in one OU, so that one parent holds
// several pages.
func bigOUFixture(accounts int) *Fixture {
	return Generate(GenerateOptions{Seed: 7, Accounts: accounts, OUDepth: 1, OUWidth: 1})
}

func adminConfig(srv *Server) aws.Config {
	return sdkConfig(srv, DefaultAccessKeyID, DefaultSecretAccessKey, "")
}

func TestOrganizationsPaging(t *testing.T) {
	fx := bigOUFixture(46) // the management account at the root, 45 members in one OU
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()
	org := orgsClient(adminConfig(srv))
	ou := fx.Organization.OUs[0].ID

	tests := []struct {
		name      string
		list      func(limit int32) ([]string, error)
		limit     int32
		wantItems int
		wantPages int
		op        string
	}{
		{"ListAccountsForParent pages through 45 accounts of one OU at 20 a page", func(limit int32) ([]string, error) {
			var ids []string
			p := organizations.NewListAccountsForParentPaginator(org, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou)}, func(o *organizations.ListAccountsForParentPaginatorOptions) { o.Limit = limit })
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				for _, a := range page.Accounts {
					ids = append(ids, aws.ToString(a.Id))
				}
			}
			return ids, nil
		}, 0, 45, 3, "organizations:ListAccountsForParent"},
		{"ListAccounts pages through all 46 accounts with MaxResults 7", func(limit int32) ([]string, error) {
			var ids []string
			p := organizations.NewListAccountsPaginator(org, &organizations.ListAccountsInput{}, func(o *organizations.ListAccountsPaginatorOptions) { o.Limit = limit })
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return nil, err
				}
				if len(page.Accounts) > int(limit) {
					return nil, errors.New("page larger than MaxResults")
				}
				for _, a := range page.Accounts {
					ids = append(ids, aws.ToString(a.Id))
				}
			}
			return ids, nil
		}, 7, 46, 7, "organizations:ListAccounts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.ResetStats()
			ids, err := tc.list(tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) != tc.wantItems {
				t.Fatalf("got %d items, want %d", len(ids), tc.wantItems)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if seen[id] {
					t.Fatalf("account %s listed twice", id)
				}
				seen[id] = true
			}
			if got := srv.Stats().Operations[tc.op].Requests; got != int64(tc.wantPages) {
				t.Fatalf("%s requests = %d, want %d pages", tc.op, got, tc.wantPages)
			}
		})
	}
}

func TestOrganizationsRejectsBadInput(t *testing.T) {
	srv := startServer(t, Options{Fixture: bigOUFixture(30)})
	ctx := context.Background()
	org := orgsClient(adminConfig(srv))
	first, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(5)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page: %v, token %v", err, first)
	}
	tests := []struct {
		name       string
		call       func() error
		wantCode   string
		wantReason orgtypes.InvalidInputExceptionReason
	}{
		{"MaxResults above 20 is refused, not clamped", func() error {
			_, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonMaxValueExceeded},
		{"MaxResults of zero is refused", func() error {
			_, err := org.ListRoots(ctx, &organizations.ListRootsInput{MaxResults: aws.Int32(0)})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonMinValueExceeded},
		{"a forged NextToken is refused", func() error {
			_, err := org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("bm90LWEtdG9rZW4")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidPaginationToken},
		{"a NextToken of ListAccounts does not page ListAccountsForParent", func() error {
			root, err := org.ListRoots(ctx, &organizations.ListRootsInput{})
			if err != nil {
				return err
			}
			_, err = org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: root.Roots[0].Id, NextToken: first.NextToken})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInvalidPaginationToken},
		{"a missing ParentId is refused", func() error {
			_, err := org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String("")})
			return err
		}, "InvalidInputException", orgtypes.InvalidInputExceptionReasonInputRequired},
		{"an unknown parent is not found", func() error {
			_, err := org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")})
			return err
		}, "ParentNotFoundException", ""},
		{"an unknown account is not found", func() error {
			_, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException", ""},
		{"an unknown child is not found", func() error {
			_, err := org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
			return err
		}, "ChildNotFoundException", ""},
		{"tags of an unknown resource are not found", func() error {
			_, err := org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("ou-zzzz-zzzzzzzz")})
			return err
		}, "TargetNotFoundException", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			wantAPIError(t, err, tc.wantCode)
			if tc.wantReason != "" {
				var ie *orgtypes.InvalidInputException
				if !errors.As(err, &ie) || ie.Reason != tc.wantReason {
					t.Fatalf("error = %v, want reason %s", err, tc.wantReason)
				}
			}
		})
	}
}

func TestOrganizationsAuthorization(t *testing.T) {
	fx := smallFixture()
	fx.Accounts = append(fx.Accounts, Account{
		ID: "444444444444", Name: "security", Email: "sec@example.com", State: "ACTIVE", JoinedMethod: "CREATED",
		JoinedTimestamp: time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), Parent: "r-ab12",
		Roles: []Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}},
	})
	fx.Accounts[0].Roles = []Role{{Name: "Admin", TrustedAccounts: []string{testMgmtAccount}}}
	fx.Organization.DelegatedAdministrators = []string{"444444444444"}
	srv := startServer(t, Options{Fixture: fx})
	ctx := context.Background()

	member := assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")
	delegated := assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole")
	mgmtRole := assumeRoleConfig(t, srv, mgmtConfig(srv), "arn:aws:iam::111111111111:role/Admin")
	rootSession := assumeRootConfig(t, srv, mgmtConfig(srv), "222222222222")
	outsider := sdkConfig(srv, "AKIAOUTSIDER00000001", "outsidersecretoutsidersecretoutsidersecr", "")

	listAccounts := func(cfg aws.Config) error {
		_, err := orgsClient(cfg).ListAccounts(ctx, &organizations.ListAccountsInput{})
		return err
	}
	describeOrg := func(cfg aws.Config) error {
		_, err := orgsClient(cfg).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		return err
	}
	tests := []struct {
		name     string
		cfg      aws.Config
		call     func(aws.Config) error
		wantCode string
	}{
		{"an IAM user of the management account may list accounts", mgmtConfig(srv), listAccounts, ""},
		{"a role session in the management account may list accounts", mgmtRole, listAccounts, ""},
		{"a delegated administrator may list accounts", delegated, listAccounts, ""},
		{"a plain member account may not list accounts", member, listAccounts, "AccessDeniedException"},
		{"a plain member account may describe its organization", member, describeOrg, ""},
		{"an account outside any organization is told Organizations is not in use", outsider, listAccounts, "AWSOrganizationsNotInUseException"},
		{"an account outside any organization cannot describe one either", outsider, describeOrg, "AWSOrganizationsNotInUseException"},
		{"a root session may not call Organizations", rootSession, listAccounts, "AccessDeniedException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(tc.cfg)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			wantAPIError(t, err, tc.wantCode)
		})
	}
}

func TestFixtureOUTreeMustReachTheRoot(t *testing.T) {
	tests := []struct {
		name    string
		ous     []OU
		wantErr string
	}{
		{"nested OUs under the root are valid", []OU{
			{ID: "ou-ab12-aaaaaaaa", Name: "a", Parent: "r-ab12"},
			{ID: "ou-ab12-bbbbbbbb", Name: "b", Parent: "ou-ab12-aaaaaaaa"},
		}, ""},
		{"two OUs that are each other's parent are refused", []OU{
			{ID: "ou-ab12-aaaaaaaa", Name: "a", Parent: "ou-ab12-bbbbbbbb"},
			{ID: "ou-ab12-bbbbbbbb", Name: "b", Parent: "ou-ab12-aaaaaaaa"},
		}, "cycle"},
		{"an OU that is its own parent is refused", []OU{
			{ID: "ou-ab12-aaaaaaaa", Name: "a", Parent: "ou-ab12-aaaaaaaa"},
		}, "is not the root or another OU"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fx := smallFixture()
			fx.Organization.OUs = tc.ous
			for i := range fx.Accounts {
				fx.Accounts[i].Parent = "r-ab12"
			}
			err := fx.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate = %v, want an error about %q", err, tc.wantErr)
			}
		})
	}
}
