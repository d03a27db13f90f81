package scan_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// TestRegionDisabledIsItsOwnError: STS deactivated in the scan's region for
// one account is RegionDisabled with what would fix it, not a suspended or
// closed account, and it is not taken for a refusal that the other access
// method could get past.
func TestRegionDisabledIsItsOwnError(t *testing.T) {
	const region, blocked = "eu-west-2", "333333333333"
	fx := handWorld()
	for i := range fx.Accounts {
		if fx.Accounts[i].ID == blocked {
			fx.Accounts[i].STSInactiveRegions = []string{region}
		}
	}
	w := newWorld(t, fx, awssim.Options{})
	regional := sts.New(w.STS.Options(), func(o *sts.Options) { o.Region = region })
	role := assume.NewRoleMethod(regional, assume.RoleOptions{
		Template: assume.RoleNameTemplate(roleName), Partition: w.Caller.Partition,
		SessionName: assume.SessionName(w.Caller), Duration: 15 * time.Minute,
	})
	root := assume.NewRootMethod(regional, assume.RootOptions{Partition: w.Caller.Partition})

	for _, tc := range []struct {
		name    string
		methods []scan.Method
	}{
		{"by role, with root sessions as the fallback", []scan.Method{role, root}},
		{"by root session, with the role as the fallback", []scan.Method{root, role}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.config()
			cfg.Methods = tc.methods
			rows := rowsByID(w.run(t, cfg).Rows)
			r := rows[blocked]
			if r.Status != scan.StatusError || r.ErrorCode != scan.CodeRegionDisabled {
				t.Fatalf("row %s: status %q code %q (%s), want error RegionDisabled", blocked, r.Status, r.ErrorCode, r.Error)
			}
			if !strings.Contains(r.Error, "RegionDisabledException") || !strings.Contains(r.Error, "activate it in the account's IAM account settings") {
				t.Errorf("error %q does not give AWS's answer and what would fix it", r.Error)
			}
			if strings.Count(r.Error, "assume-ro") != 1 {
				t.Errorf("error %q: the other method was tried, though it would meet the same refusal", r.Error)
			}
			if ok := rows["222222222222"]; ok.Status != scan.StatusOK {
				t.Errorf("an account with STS active in %s: %+v", region, ok)
			}
		})
	}
}
