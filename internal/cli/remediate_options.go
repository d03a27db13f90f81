package cli

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// remediateOptions are the flags of `orgscan remediate` (and `orgscan demo
// remediate`).
type remediateOptions struct {
	Delete              []string
	deleteGiven         bool
	RecentDays          int
	IncludeRecentlyUsed bool
	Apply               bool
	Yes                 bool
	Plan                string
	MaxPlanAge          time.Duration

	Profile     string
	Region      string
	EndpointURL string

	selectionOptions

	Concurrency    int
	AccountTimeout time.Duration

	Format        string
	formatSet     bool
	Outs          []string
	SSE           string
	SSEKMSKeyID   string
	ExpectedOwner string
	Quiet         bool
	LogFormat     string
	Debug         bool

	selection remediate.Selection
	planS3    *s3Location // --plan s3://bucket/key
	targets   []target
	// confirm asks for the organization id on the terminal before
	// anything is deleted.
	confirm bool
}

const (
	defaultRecentDays = 90
	defaultMaxPlanAge = 24 * time.Hour
)

// deleteValues are the words --delete takes, for validation, help and
// completion; the library owns them.
var deleteValues = enum{remediate.SelectAccessKeys, remediate.SelectSigningCertificates, remediate.SelectPassword,
	remediate.SelectMFA, remediate.SelectAll}

// remediationFormats are the formats output.NewRemediation renders.
var remediationFormats = enum{output.FormatTable, output.FormatCSV, output.FormatJSON, output.FormatNDJSON, output.FormatHTML}

const remediateLong = `Plans the removal of member accounts' root credentials and, with --apply,
carries it out. Each selected member account is entered with a root session
(sts:AssumeRoot) scoped by an AWS managed task policy: IAMAuditRootUserCredentials
to plan, IAMDeleteRootUserCredentials to delete. Without --apply nothing is
changed. The organization must manage root credentials centrally.
`

// newCmdRemediate is `orgscan remediate`. runF, when not nil, receives the
// parsed and validated options instead of the command running.
func newCmdRemediate(env *runEnv, runF func(*remediateOptions) error) *cobra.Command {
	o := &remediateOptions{}
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "plan, then with --apply carry out, the deletion\nof member accounts' root credentials",
		Long:  remediateLong,
		Args:  noArgs("remediate takes only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(cmd.Flags(), env.streams); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return exited(runRemediate(cmd.Context(), *env, o, cmd.CommandPath()))
		},
	}
	configure(cmd)
	addRemediateFlags(cmd, o)
	return cmd
}

// addRemediateFlags defines the flags of remediate and demo remediate.
func addRemediateFlags(cmd *cobra.Command, o *remediateOptions) {
	d := newFlagDefs(cmd)
	d.beginSection("Remediation")
	o.Delete = remediate.DefaultSelection().Names()
	d.valueFlag(&defaultedList{values: &o.Delete, given: &o.deleteGiven}, "delete", "", "LIST",
		deleteValues.String()+"\n(default "+strings.Join(o.Delete, ",")+"); mfa only\ntogether with password and access-keys").oneOf(deleteValues)
	d.intFlag(&o.RecentDays, "recent-days", "N", defaultRecentDays, "an access key used within N days is held, not deleted (default 90)")
	d.boolFlag(&o.IncludeRecentlyUsed, "include-recently-used", "", "delete recently used access keys too")
	d.boolFlag(&o.Apply, "apply", "", "delete what the plan names (without it nothing is changed)")
	d.boolFlag(&o.Yes, "yes", "", "with --apply: do not ask to type the organization id\n(required without a terminal)")
	d.stringFlag(&o.Plan, "plan", "", "FILE", "", "with --apply: carry out this saved plan, a file or\ns3://bucket/key (written by --out plan.json)").file()
	d.durationFlag(&o.MaxPlanAge, "max-plan-age", "D", defaultMaxPlanAge, "with --plan: refuse a plan older than D (default 24h)")

	d.beginSection("Access")
	d.stringFlag(&o.Profile, "profile", "", "NAME", "", "AWS profile")
	d.stringFlag(&o.Region, "region", "", "R", "", "AWS region (default us-east-1)")
	d.stringFlag(&o.EndpointURL, "endpoint-url", "", "URL", "", "AWS endpoint (AWS_ENDPOINT_URL* variables also apply)")

	d.beginSection("Selection")
	addSelectionFlags(d, &o.selectionOptions, "remediate")

	d.beginSection("Run")
	d.intFlag(&o.Concurrency, "concurrency", "N", defaultConcurrency, "accounts worked on at once, 1-1000 (default 20)")
	d.durationFlag(&o.AccountTimeout, "account-timeout", "D", 2*time.Minute, "time limit for one account (default 2m)")

	d.beginSection("Output")
	d.stringFlag(&o.Format, "format", "f", "F", output.FormatTable, remediationFormats.String()+" (default table)").oneOf(remediationFormats)
	d.valueFlag(repeatFlag{&o.Outs}, "out", "o", "TARGET",
		"file path, s3://bucket/key or s3://bucket/prefix/ (repeatable;\nformat from the extension; a prefix gets\norg=<id>/date=<YYYY-MM-DD>/remediation-plan-<time>.<ext>,\nor remediation-<time>.<ext> for an apply's evidence)").file()
	d.stringFlag(&o.SSE, "sse", "", "ALG", "AES256", "S3 server-side encryption: "+sseAlgorithms.String()+" (default AES256)").oneOf(sseAlgorithms)
	d.stringFlag(&o.SSEKMSKeyID, "sse-kms-key-id", "", "ARN", "", "KMS key for --sse aws:kms")
	d.stringFlag(&o.ExpectedOwner, "expected-bucket-owner", "", "ID", "", "refuse a bucket of another account (--out, --plan)")
	d.boolFlag(&o.Quiet, "quiet", "q", "no progress, only warnings on stderr")
	d.stringFlag(&o.LogFormat, "log-format", "", "F", "text", logFormats.String()+" logs on stderr (default text)").oneOf(logFormats)
	d.boolFlag(&o.Debug, "debug", "", "trace AWS requests on stderr (secrets redacted)")
}

// defaultedList is a list flag with a default that the first value given
// replaces (later ones add to it), as a comma list or repeated.
type defaultedList struct {
	values *[]string
	given  *bool
}

func (l *defaultedList) String() string { return listFlag{l.values}.String() }

func (l *defaultedList) Set(v string) error {
	if !*l.given {
		*l.values, *l.given = nil, true
	}
	return listFlag{l.values}.Set(v)
}

func (l *defaultedList) Type() string { return "stringSlice" }

// complete validates the parsed flags against each other and the
// terminal. Every error is bad usage, found before any AWS call.
func (o *remediateOptions) complete(fs *pflag.FlagSet, st *Streams) error {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	o.formatSet = set["format"]
	if err := o.validate(set); err != nil {
		return err
	}
	if o.Apply && !o.Yes {
		// The question is asked on stderr and answered on stdin; without
		// both, nobody can confirm. Refused here, before any session is
		// opened or even the configuration loaded.
		if !st.IsStdinTerminal() || !st.IsStderrTerminal() {
			return usagef("--apply without a terminal cannot ask to confirm (nothing was done): add --yes to delete without confirmation")
		}
		o.confirm = true
	}
	return nil
}

func (o *remediateOptions) validate(set map[string]bool) error {
	switch {
	case set["plan"] && !o.Apply:
		return usagef("--plan is applied with --apply: add --apply (to review a plan, open the file; to make one, drop --plan)")
	case set["plan"] && o.Plan == "":
		return usagef("--plan needs a file or s3://bucket/key: give the plan that --out saved")
	case o.Yes && !o.Apply:
		return usagef("--yes confirms --apply: add --apply, or drop --yes to plan only")
	case set["max-plan-age"] && !set["plan"]:
		return usagef("--max-plan-age applies to --plan: add --plan FILE, or drop it (a plan made in this run is never old)")
	case o.MaxPlanAge <= 0:
		return usagef("--max-plan-age %s must be positive, e.g. 24h", o.MaxPlanAge)
	}
	if o.Plan != "" {
		// A reviewed plan is applied as it was reviewed: what it selected
		// and what it deletes are in it.
		for _, name := range append(slices.Clone(selectionFlags), "delete", "recent-days", "include-recently-used") {
			if set[name] {
				return usagef("--%s does not apply with --plan: the plan fixes its accounts and what it deletes; drop --%s, or make a new plan with it", name, name)
			}
		}
		if strings.HasPrefix(strings.ToLower(o.Plan), "s3:") {
			loc, err := parseS3URI(o.Plan)
			if err != nil {
				return usagef("--plan: %v", err)
			}
			if loc.Prefix {
				return usagef("--plan %s is a prefix: give the plan's object, s3://bucket/key", o.Plan)
			}
			o.planS3 = loc
		}
	}
	if err := o.selectionOptions.validate(); err != nil {
		return err
	}
	if o.Concurrency < 1 || o.Concurrency > maxConcurrency {
		return usagef("--concurrency %d is out of range: use 1 to %d", o.Concurrency, maxConcurrency)
	}
	if o.AccountTimeout <= 0 {
		return usagef("--account-timeout %s must be positive, e.g. 2m", o.AccountTimeout)
	}
	sel, err := remediate.ParseSelection(o.Delete)
	if err != nil {
		// The library's error keeps its code and hint (see advice).
		return fmt.Errorf("--delete %s: %w", truncate(strings.Join(o.Delete, ","), 80), err)
	}
	o.selection = sel
	switch {
	case o.RecentDays < 1:
		return usagef("--recent-days %d must be at least 1: to delete recently used keys too, use --include-recently-used", o.RecentDays)
	case o.IncludeRecentlyUsed && set["recent-days"]:
		return usagef("--recent-days has no effect with --include-recently-used, which holds no key for recent use: drop one")
	case !o.selection.AccessKeys && (set["recent-days"] || o.IncludeRecentlyUsed):
		return usagef("--recent-days and --include-recently-used apply to access keys: add access-keys to --delete, or drop them")
	}
	if err := checkDeliveryFlags(o.LogFormat, o.SSE, o.SSEKMSKeyID, o.ExpectedOwner); err != nil {
		return err
	}
	if !remediationFormats.has(o.Format) {
		return usagef("--format %q is not known: use %s", o.Format, remediationFormats)
	}
	targets, err := parseTargets(o.Outs, o.Format, o.formatSet)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !remediationFormats.has(t.format) {
			return usagef("--out %s: a remediation report is written as %s, not %s: change the extension or --format", t.raw, remediationFormats, t.format)
		}
	}
	o.targets = targets
	hasS3 := slices.ContainsFunc(targets, func(t target) bool { return t.s3 != nil })
	if !hasS3 && (set["sse"] || set["sse-kms-key-id"]) {
		return usagef("--sse and --sse-kms-key-id apply to s3:// outputs: add --out s3://bucket/prefix/ or drop them")
	}
	if !hasS3 && o.planS3 == nil && set["expected-bucket-owner"] {
		return usagef("--expected-bucket-owner applies to s3:// outputs and plans: add --out s3://bucket/prefix/ or drop it")
	}
	for _, t := range targets {
		if o.Plan != "" && t.raw == o.Plan {
			return usagef("--out %s would replace the plan being applied: write the evidence to another file", t.raw)
		}
	}
	return nil
}
