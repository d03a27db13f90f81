package main

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// world is an in-process simulator serving a generated organization, and
// the real SDK clients, wired as orgscan wires them (STS and Organizations
// paced), pointed at it.
type world struct {
	srv    *awssim.Server
	fx     *awssim.Fixture
	orgs   *organizations.Client
	iam    *iam.Client
	sts    *sts.Client
	caller assume.Caller
}

func newWorld(tb testing.TB, g awssim.GenerateOptions, opts awssim.Options, concurrency int) *world {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	fx := awssim.Generate(g)
	opts.Fixture = fx
	srv, err := awssim.Start(ctx, opts)
	if err != nil {
		tb.Fatalf("start the simulator: %v", err)
	}
	tb.Cleanup(srv.Close)
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Region: "us-east-1", EndpointURL: srv.URL(), Concurrency: concurrency,
		Credentials: credentials.NewStaticCredentialsProvider(awssim.DefaultAccessKeyID, awssim.DefaultSecretAccessKey, ""),
	})
	if err != nil {
		tb.Fatalf("load the SDK configuration: %v", err)
	}
	w := &world{
		srv:  srv,
		fx:   fx,
		orgs: organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Retryer = assume.NewPacedRetryer() }),
		iam:  iam.NewFromConfig(cfg),
		sts:  sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = assume.NewPacedRetryer() }),
	}
	w.caller, err = assume.Identify(ctx, w.sts)
	if err != nil {
		tb.Fatalf("identify the caller: %v", err)
	}
	// Only the scan's own calls are counted.
	srv.ResetStats()
	return w
}

// method is orgscan's access method of that name.
func (w *world) method(name string) scan.Method {
	if name == assume.MethodAssumeRoot {
		return assume.NewRootMethod(w.sts, assume.RootOptions{Partition: w.caller.Partition})
	}
	return assume.NewRoleMethod(w.sts, assume.RoleOptions{
		Template: assume.RoleNameTemplate(awssim.DefaultRoleName), Partition: w.caller.Partition,
		SessionName: assume.SessionName(w.caller), Duration: 15 * time.Minute,
	})
}

// config is a scan of the whole organization with one access method.
func (w *world) config(method string, concurrency int) scan.Config {
	return scan.Config{
		Orgs:                w.orgs,
		IAM:                 w.iam,
		Methods:             []scan.Method{w.method(method)},
		CallerAccountID:     w.caller.AccountID,
		Concurrency:         concurrency,
		AccountTimeout:      time.Minute,
		ManagementAccountID: w.fx.Organization.ManagementAccountID,
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
