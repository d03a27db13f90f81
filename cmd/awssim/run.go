package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/orgscan/orgscan/internal/awssim"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the simulator could not start
	exitUsage = 2 // bad flags or arguments
)

// config is everything the flags say.
type config struct {
	listen   string
	fixture  string
	generate awssim.GenerateOptions
	sim      awssim.Options
	faults   string
}

// generatorFlags are the flags that describe a generated organization;
// they make no sense together with --fixture. (--seed also seeds jitter and
// faults, so it goes with either.)
var generatorFlags = []string{
	"accounts", "ou-depth", "ou-width", "root-keys", "root-certs", "no-mfa",
	"passwords", "missing-role", "inactive", "hang", "role-name", "no-central-root-access", "delegated-admin",
	"idle-root-key-and-cert", "account-tags", "security-contacts",
}

// parseFlags turns arguments into a config; its errors are usage errors.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("awssim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: awssim [--listen 127.0.0.1:4566] [--fixture FILE | generator flags] [quota and fault flags]")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:4566", "loopback `address` to serve on")
	fs.StringVar(&cfg.fixture, "fixture", "", "JSON fixture `file` describing the world (default: a generated organization)")

	g := &cfg.generate
	fs.IntVar(&g.Accounts, "accounts", 50, "generated accounts, the management account included")
	fs.Int64Var(&g.Seed, "seed", 1, "seed of the generated organization, latency jitter and faults")
	fs.IntVar(&g.OUDepth, "ou-depth", 2, "levels of OUs under the root")
	fs.IntVar(&g.OUWidth, "ou-width", 3, "child OUs of the root and of each OU")
	fs.Float64Var(&g.RootKeys, "root-keys", 0.1, "fraction of member accounts with root access keys")
	fs.Float64Var(&g.RootCerts, "root-certs", 0.05, "fraction of member accounts with root signing certificates")
	fs.Float64Var(&g.NoMFA, "no-mfa", 0.2, "fraction of member accounts whose root user has no MFA")
	fs.Float64Var(&g.Passwords, "passwords", 0.3, "fraction of member accounts whose root user has a password")
	fs.Float64Var(&g.MissingRole, "missing-role", 0.05, "fraction of member accounts without the cross-account role")
	fs.Float64Var(&g.Inactive, "inactive", 0.02, "fraction of member accounts that are suspended, closed or pending activation")
	fs.Float64Var(&g.Hang, "hang", 0, "fraction of member accounts whose requests hang")
	fs.StringVar(&g.RoleName, "role-name", awssim.DefaultRoleName, "cross-account role `name` in member accounts")
	fs.BoolVar(&g.NoCentralRootAccess, "no-central-root-access", false, "disable the organization's centralized root access features")
	fs.BoolVar(&g.DelegatedAdministrator, "delegated-admin", false, "make the first member account a delegated administrator")
	fs.BoolVar(&g.IdleRootKeyAndCert, "idle-root-key-and-cert", false, "give every member account's root user one never-used access key and one signing certificate (overrides --root-keys and --root-certs)")
	fs.BoolVar(&g.AccountTags, "account-tags", false, "give every account owner, team and cost-center tags (the first member more than a page of them)")
	fs.BoolVar(&g.SecurityContacts, "security-contacts", false, "enable trusted access for Account Management and give every account but every tenth member a SECURITY contact")

	o := &cfg.sim
	fs.DurationVar(&o.Latency, "latency", 0, "added to every request, e.g. 40ms")
	fs.DurationVar(&o.Jitter, "jitter", 0, "latency varies uniformly by up to this much either way")
	fs.Float64Var(&o.STSRate, "sts-rate", 0, "STS requests per second per calling account (AWS: 600; 0: unlimited)")
	fs.IntVar(&o.STSBurst, "sts-burst", 0, "STS burst (default: one second's worth)")
	fs.Float64Var(&o.OrgsRate, "orgs-rate", 0, "Organizations requests per second per calling account (0: unlimited)")
	fs.IntVar(&o.OrgsBurst, "orgs-burst", 0, "Organizations burst (default: one second's worth)")
	fs.Float64Var(&o.IAMRate, "iam-rate", 0, "IAM requests per second per target account (0: unlimited)")
	fs.IntVar(&o.IAMBurst, "iam-burst", 0, "IAM burst (default: one second's worth)")
	fs.Float64Var(&o.ErrorRate, "error-rate", 0, "probability that a request gets a 5xx answer")
	fs.Float64Var(&o.DropRate, "drop-rate", 0, "probability that a request's connection is dropped")
	fs.StringVar(&cfg.faults, "fault-services", "", "comma-separated `services` the error and drop rates apply to (default: all)")

	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := awssim.CheckLoopback(cfg.listen); err != nil {
		return nil, err
	}
	if cfg.fixture != "" {
		var clash []string
		fs.Visit(func(f *flag.Flag) {
			for _, name := range generatorFlags {
				if f.Name == name {
					clash = append(clash, "--"+name)
				}
			}
		})
		if len(clash) > 0 {
			return nil, fmt.Errorf("--fixture and generator flags (%s) exclude each other", strings.Join(clash, ", "))
		}
	} else if err := g.Validate(); err != nil {
		return nil, err
	}
	o.Seed = g.Seed
	if err := checkRates(o); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(cfg.faults, ",") {
		s = strings.TrimSpace(s)
		switch s {
		case "":
		case "organizations", "sts", "iam", "s3":
			o.FaultServices = append(o.FaultServices, s)
		default:
			return nil, fmt.Errorf("--fault-services: unknown service %q (want organizations, sts, iam or s3)", s)
		}
	}
	return cfg, nil
}

func checkRates(o *awssim.Options) error {
	for _, r := range []struct {
		name string
		v    float64
	}{{"sts-rate", o.STSRate}, {"orgs-rate", o.OrgsRate}, {"iam-rate", o.IAMRate}} {
		if r.v < 0 {
			return fmt.Errorf("--%s %v: a rate must not be negative", r.name, r.v)
		}
	}
	for _, b := range []struct {
		name string
		v    int
	}{{"sts-burst", o.STSBurst}, {"orgs-burst", o.OrgsBurst}, {"iam-burst", o.IAMBurst}} {
		if b.v < 0 {
			return fmt.Errorf("--%s %d: a burst must not be negative", b.name, b.v)
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"error-rate", o.ErrorRate}, {"drop-rate", o.DropRate}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("--%s %v: want a probability between 0 and 1", p.name, p.v)
		}
	}
	if o.Latency < 0 || o.Jitter < 0 {
		return fmt.Errorf("--latency %v and --jitter %v must not be negative", o.Latency, o.Jitter)
	}
	return nil
}

// run serves until ctx ends and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "awssim: %v\n", err)
		return exitUsage
	}
	fx, err := loadWorld(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "awssim: %v\n", err)
		return exitUsage
	}
	cred, err := fx.ManagementCredential()
	if err != nil {
		fmt.Fprintf(stderr, "awssim: %v; add one to its \"credentials\"\n", err)
		return exitUsage
	}
	opts := cfg.sim
	opts.Addr = cfg.listen
	opts.Fixture = fx
	srv, err := awssim.Start(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "awssim: %v\n", err)
		return exitError
	}
	defer srv.Close()

	fmt.Fprintf(stdout, "export AWS_ENDPOINT_URL=%s\n", srv.URL())
	fmt.Fprintf(stdout, "export AWS_ACCESS_KEY_ID=%s\n", cred.AccessKeyID)
	fmt.Fprintf(stdout, "export AWS_SECRET_ACCESS_KEY=%s\n", cred.SecretAccessKey)
	fmt.Fprintln(stdout, "export AWS_REGION=us-east-1")
	// AWS CLI v1 reads only AWS_DEFAULT_REGION.
	fmt.Fprintln(stdout, "export AWS_DEFAULT_REGION=us-east-1")
	fmt.Fprintf(stderr, "awssim: serving organization %s (%d accounts) on %s; stats at %s/_awssim/stats; Ctrl-C stops\n",
		fx.Organization.ID, len(fx.Accounts), srv.URL(), srv.URL())

	<-ctx.Done()
	srv.Close()
	fmt.Fprintln(stderr, "awssim: stopped")
	return exitOK
}

func loadWorld(cfg *config) (*awssim.Fixture, error) {
	if cfg.fixture != "" {
		return awssim.LoadFixture(cfg.fixture)
	}
	return awssim.Generate(cfg.generate), nil
}
