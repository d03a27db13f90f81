package awssim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// TestDemoWorldOwners checks what the demo world offers `--tags` and
// `--contacts`: every account's owner, team and cost center, a security
// contact on every account but acquired-analytics, and a guardrail that
// hides legacy-billing's tags from the demo's administrator.
func TestDemoWorldOwners(t *testing.T) {
	fx, err := LoadFixture("../../examples/demo-world.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, Options{Fixture: fx})
	cred, err := fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	admin := sdkConfig(srv, cred.AccessKeyID, cred.SecretAccessKey, "")
	ctx := context.Background()
	const deniedTags, noContact = "legacy-billing", "acquired-analytics"

	for _, a := range fx.Accounts {
		t.Run(a.Name+"'s tags", func(t *testing.T) {
			out, err := orgsClient(admin).ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(a.ID)})
			if a.Name == deniedTags {
				wantError(t, err, "AccessDeniedException", 400, "explicit deny")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, tag := range out.Tags {
				got[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
			}
			for _, k := range []string{"owner", "team", "cost-center"} {
				if got[k] == "" {
					t.Fatalf("no %s tag in %v", k, got)
				}
			}
		})
		t.Run(a.Name+"'s security contact", func(t *testing.T) {
			id := a.ID
			if id == fx.Organization.ManagementAccountID {
				id = "" // the management account reads its own without AccountId
			}
			c, err := getContact(ctx, admin, id, "SECURITY")
			if a.Name == noContact {
				wantError(t, err, "ResourceNotFoundException", 404, "")
				return
			}
			if err != nil || aws.ToString(c.EmailAddress) == "" {
				t.Fatalf("contact = %+v, %v", c, err)
			}
		})
	}
}
