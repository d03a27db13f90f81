package main

import (
	"context"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// world is an in-process simulator serving a generated organization, and
// the real SDK clients, wired as orgscan wires them, pointed at it.
type world struct{ *simtest.World }

func newWorld(tb testing.TB, g awssim.GenerateOptions, opts awssim.Options, concurrency int) *world {
	tb.Helper()
	w := &world{simtest.Start(tb, awssim.Generate(g), opts, concurrency)}
	// Only the scan's own calls are counted.
	w.Server.ResetStats()
	return w
}

// method is orgscan's access method of that name.
func (w *world) method(name string) scan.Method {
	if name == assume.MethodAssumeRoot {
		return assume.NewRootMethod(w.STS, assume.RootOptions{Partition: w.Caller.Partition})
	}
	return assume.NewRoleMethod(w.STS, assume.RoleOptions{
		Template: assume.RoleNameTemplate(awssim.DefaultRoleName), Partition: w.Caller.Partition,
		SessionName: assume.SessionName(w.Caller), Duration: 15 * time.Minute,
	})
}

// config is a scan of the whole organization with one access method.
func (w *world) config(method string, concurrency int) scan.Config {
	return scan.Config{
		Orgs:                w.Organizations,
		IAM:                 w.IAM,
		Methods:             []scan.Method{w.method(method)},
		CallerAccountID:     w.Caller.AccountID,
		Concurrency:         concurrency,
		AccountTimeout:      time.Minute,
		ManagementAccountID: w.Fixture.Organization.ManagementAccountID,
	}
}

// run scans and fails the test on anything but a complete result.
func (w *world) run(tb testing.TB, cfg scan.Config) *scan.Result {
	tb.Helper()
	res, err := scan.Run(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("scan: %v", err)
	}
	if res.Err != nil || res.Interrupted {
		tb.Fatalf("scan incomplete: err %v, interrupted %v", res.Err, res.Interrupted)
	}
	return res
}

// organization is a generated organization where every account is active
// and has the audit role, unless the test says otherwise.
func organization(accounts, depth, width int) awssim.GenerateOptions {
	return awssim.GenerateOptions{
		Seed: 7, Accounts: accounts, OUDepth: depth, OUWidth: width,
		RootKeys: 0.1, RootCerts: 0.05, NoMFA: 0.2, Passwords: 0.3,
		RoleName: awssim.DefaultRoleName,
	}
}
