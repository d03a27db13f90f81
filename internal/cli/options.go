package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// scanOptions are the flags of `orgscan scan` (and `orgscan demo`).
type scanOptions struct {
	Access          string
	RoleName        string
	RoleARNTemplate string
	ExternalID      string
	SessionName     string
	Duration        time.Duration

	Profile     string
	Region      string
	EndpointURL string

	Concurrency    int
	AccountTimeout time.Duration

	selectionOptions
	IncludeInactive bool

	Details    bool
	RecentDays int
	MaxAgeDays int

	Tags       bool
	TagColumns []string
	Contacts   bool

	Format         string
	formatSet      bool
	Outs           []string
	SSE            string
	SSEKMSKeyID    string
	ExpectedOwner  string
	FailOnFindings bool
	FailSeverity   string
	failAt         scan.Severity // FailSeverity, parsed
	Baseline       string
	OwnerTag       string

	Quiet     bool
	LogFormat string
	Debug     bool

	targets []target
}

const (
	defaultRoleName    = "OrganizationAccountAccessRole"
	maxConcurrency     = 1000
	maxAccountsFile    = 4 << 20 // 4 MiB is ~300,000 ids: far beyond any organization
	defaultConcurrency = 20
)

// usageError is bad input: exit status 2, before any AWS call.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// listFlag is a repeatable flag; each value may also hold a comma list.
type listFlag struct{ values *[]string }

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, ",")
}

func (l listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l.values = append(*l.values, part)
		}
	}
	return nil
}

// Type names pflag's kind of the same semantics; completion offers a
// "Slice" or "Array" flag again after it was given.
func (l listFlag) Type() string { return "stringSlice" }

// repeatFlag is a repeatable flag whose values are kept whole.
type repeatFlag struct{ values *[]string }

func (r repeatFlag) String() string {
	if r.values == nil {
		return ""
	}
	return strings.Join(*r.values, " ")
}

func (r repeatFlag) Set(v string) error { *r.values = append(*r.values, v); return nil }

func (r repeatFlag) Type() string { return "stringArray" }

// Enumerated scan flags: validation, help and completion read these.
var (
	accessMethods  = enum{assume.MethodAssumeRole, assume.MethodAssumeRoot, "auto"}
	logFormats     = enum{"text", "json"}
	sseAlgorithms  = enum{"AES256", "aws:kms"}
	scanFormats    = enum(output.Formats())
	severityLevels = severityNames()
)

func severityNames() enum {
	var e enum
	for _, s := range scan.Severities() {
		e = append(e, string(s))
	}
	return e
}

// newCmdScan is `orgscan scan`. runF, when not nil, receives the parsed and
// validated options instead of the scan running, so that a test can check
// parsing alone.
func newCmdScan(env *runEnv, runF func(*scanOptions) error) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "scan the organization (run from the management\naccount or a delegated administrator)",
		Args:  noArgs("scan takes only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(cmd.Flags()); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return exited(runScan(cmd.Context(), *env, o))
		},
	}
	configure(cmd)
	addScanFlags(cmd, o)
	return cmd
}

// addScanFlags defines the flags of scan and demo.
func addScanFlags(cmd *cobra.Command, o *scanOptions) {
	d := newFlagDefs(cmd)
	d.beginSection("Access")
	d.stringFlag(&o.Access, "access", "", "METHOD", "auto",
		accessMethods.String()+" (default auto: root\nsessions where the organization manages root\ncredentials centrally, with the other as fallback)").oneOf(accessMethods)
	d.stringFlag(&o.RoleName, "role-name", "", "NAME", defaultRoleName, "audit role in each account (default "+defaultRoleName+")")
	d.stringFlag(&o.RoleARNTemplate, "role-arn-template", "", "T", "", "role ARN with {partition} and {account_id}, for roles with a path")
	d.stringFlag(&o.ExternalID, "external-id", "", "ID", "", "sts:ExternalId the audit role requires")
	d.stringFlag(&o.SessionName, "session-name", "", "NAME", "", "role session name (default orgscan-<caller>)")
	d.durationFlag(&o.Duration, "duration", "D", 15*time.Minute, "session duration, 15m to 12h (default 15m; root sessions at most 15m)")
	d.stringFlag(&o.Profile, "profile", "", "NAME", "", "AWS profile")
	d.stringFlag(&o.Region, "region", "", "R", "", "AWS region (default us-east-1)")
	d.stringFlag(&o.EndpointURL, "endpoint-url", "", "URL", "", "AWS endpoint (AWS_ENDPOINT_URL* variables also apply)")

	d.beginSection("Selection")
	addSelectionFlags(d, &o.selectionOptions, "scan")
	d.boolFlag(&o.IncludeInactive, "include-inactive", "", "try accounts that are not ACTIVE instead of skipping them")

	d.beginSection("Scan")
	d.intFlag(&o.Concurrency, "concurrency", "N", defaultConcurrency, fmt.Sprintf("accounts scanned at once, 1-%d (default %d)", maxConcurrency, defaultConcurrency))
	d.durationFlag(&o.AccountTimeout, "account-timeout", "D", 2*time.Minute, "time limit for one account (default 2m)")
	d.boolFlag(&o.Details, "details", "", "add root credential details: key ids, ages, last use")
	d.intFlag(&o.RecentDays, "recent-days", "N", 90, "with --details: a key used within N days is in use (default 90)")
	d.intFlag(&o.MaxAgeDays, "max-age-days", "N", 365, "with --details: a credential older than N days is old (default 365)")

	d.beginSection("Owners")
	d.boolFlag(&o.Tags, "tags", "", "read each account's tags (one more Organizations call per account)")
	d.valueFlag(listFlag{&o.TagColumns}, "tag-columns", "", "KEY,...", "show these tags as columns in table, CSV and HTML (implies --tags)")
	d.boolFlag(&o.Contacts, "contacts", "", "read each account's security contact (one Account Management call\nper account; needs its trusted access in Organizations)")

	d.beginSection("Output")
	d.stringFlag(&o.Format, "format", "f", "F", output.FormatTable, scanFormats.String()+" (default table)").oneOf(scanFormats)
	d.valueFlag(repeatFlag{&o.Outs}, "out", "o", "TARGET",
		"file path, s3://bucket/key or s3://bucket/prefix/ (repeatable;\nformat from the extension; a prefix gets\norg=<id>/date=<YYYY-MM-DD>/orgscan-<time>.<ext>)").file()
	d.stringFlag(&o.SSE, "sse", "", "ALG", "AES256", "S3 server-side encryption: "+sseAlgorithms.String()+" (default AES256)").oneOf(sseAlgorithms)
	d.stringFlag(&o.SSEKMSKeyID, "sse-kms-key-id", "", "ARN", "", "KMS key for --sse aws:kms")
	d.stringFlag(&o.ExpectedOwner, "expected-bucket-owner", "", "ID", "", "refuse a bucket of another account (--out, --baseline)")
	d.stringFlag(&o.Baseline, "baseline", "", "s3://b/prefix/", "", "compare with the newest earlier report under the prefix")
	d.boolFlag(&o.FailOnFindings, "fail-on-findings", "", "exit 4 when any account has findings of the\n--fail-severity or more")
	d.stringFlag(&o.FailSeverity, "fail-severity", "", "S", string(scan.SeverityLow),
		severityLevels.String()+"\n(default low: the management account's root\npassword, informational, does not fail)").oneOf(severityLevels)
	d.stringFlag(&o.OwnerTag, "owner-tag", "", "KEY", "", "group the HTML report's findings by owner: the\naccount's tag KEY, else its security contact\n(implies --tags)")
	d.boolFlag(&o.Quiet, "quiet", "q", "no progress, only warnings on stderr")
	d.stringFlag(&o.LogFormat, "log-format", "", "F", "text", logFormats.String()+" logs on stderr (default text)").oneOf(logFormats)
	d.boolFlag(&o.Debug, "debug", "", "trace AWS requests on stderr (secrets redacted)")
}

// complete validates the parsed flags and derives what they imply. Every
// error is a usageError naming the input and the fix.
func (o *scanOptions) complete(fs *pflag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	o.formatSet = set["format"]
	return o.validate(set)
}

// noArgs refuses positional arguments, saying what the command takes.
func noArgs(takes string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q: %s (see `%s --help`)", args[0], takes, cmd.CommandPath())
		}
		return nil
	}
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern      = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

func (o *scanOptions) validate(set map[string]bool) error {
	if !accessMethods.has(o.Access) {
		return usagef("--access %q is not a method: use %s", o.Access, accessMethods)
	}
	if set["role-name"] && set["role-arn-template"] {
		return usagef("--role-name and --role-arn-template contradict each other: give one")
	}
	if o.Access == assume.MethodAssumeRoot {
		for _, name := range []string{"role-name", "role-arn-template", "external-id"} {
			if set[name] {
				return usagef("--%s has no effect with --access assume-root (root sessions assume no role): drop it, or use --access auto", name)
			}
		}
		if o.Duration > assume.MaxRootSessionDuration {
			return usagef("--duration %s exceeds the 15m limit of root sessions: use --duration 15m or less", o.Duration)
		}
	}
	if o.RoleARNTemplate != "" {
		if err := assume.ValidateRoleTemplate(o.RoleARNTemplate); err != nil {
			return usagef("--role-arn-template: %v", err)
		}
	} else if err := assume.ValidateRoleName(o.RoleName); err != nil {
		return usagef("--role-name: %v", err)
	}
	if o.ExternalID != "" {
		if err := assume.ValidateExternalID(o.ExternalID); err != nil {
			return usagef("--external-id: %v", err)
		}
	}
	if o.SessionName != "" {
		if err := assume.ValidateSessionName(o.SessionName); err != nil {
			return usagef("--session-name: %v", err)
		}
	}
	if o.Duration < 15*time.Minute || o.Duration > 12*time.Hour {
		return usagef("--duration %s is outside what STS allows: use 15m to 12h", o.Duration)
	}
	if o.Concurrency < 1 || o.Concurrency > maxConcurrency {
		return usagef("--concurrency %d is out of range: use 1 to %d", o.Concurrency, maxConcurrency)
	}
	if o.AccountTimeout <= 0 {
		return usagef("--account-timeout %s must be positive, e.g. 2m", o.AccountTimeout)
	}
	if err := o.selectionOptions.validate(); err != nil {
		return err
	}
	if o.RecentDays < 0 || o.MaxAgeDays < 0 {
		return usagef("--recent-days and --max-age-days must not be negative")
	}
	if !set["details"] && (set["recent-days"] || set["max-age-days"]) {
		return usagef("--recent-days and --max-age-days need --details: add --details")
	}
	if err := o.validateTagColumns(); err != nil {
		return err
	}
	failAt, err := parseFailSeverity(o.FailSeverity)
	if err != nil {
		return err
	}
	o.failAt = failAt
	if set["fail-severity"] && !o.FailOnFindings {
		return usagef("--fail-severity applies to --fail-on-findings: add --fail-on-findings or drop it")
	}
	if err := checkDeliveryFlags(o.LogFormat, o.SSE, o.SSEKMSKeyID, o.ExpectedOwner); err != nil {
		return err
	}
	targets, err := parseTargets(o.Outs, o.Format, o.formatSet)
	if err != nil {
		return err
	}
	o.targets = targets
	if set["owner-tag"] {
		if err := scan.CheckTagKey(o.OwnerTag); err != nil {
			return usagef("--owner-tag: %v", err)
		}
		if !slices.ContainsFunc(targets, func(t target) bool { return t.format == output.FormatHTML }) {
			return usagef("--owner-tag groups the HTML report's findings: add -f html or --out FILE.html, or drop it")
		}
		// A grouping by a tag never read would fall back to the contacts
		// for every account.
		o.Tags = true
	}
	hasS3 := slices.ContainsFunc(targets, func(t target) bool { return t.s3 != nil })
	if !hasS3 && (set["sse"] || set["sse-kms-key-id"]) {
		return usagef("--sse and --sse-kms-key-id apply to s3:// outputs: add --out s3://bucket/prefix/ or drop them")
	}
	if !hasS3 && o.Baseline == "" && set["expected-bucket-owner"] {
		return usagef("--expected-bucket-owner applies to s3:// outputs and --baseline: add --out s3://bucket/prefix/ or drop it")
	}
	if o.Baseline != "" {
		if _, err := parseS3URI(o.Baseline); err != nil {
			return usagef("--baseline: %v", err)
		}
		if !strings.HasSuffix(o.Baseline, "/") {
			return usagef("--baseline %q must be a prefix ending in /, e.g. s3://bucket/orgscan/", o.Baseline)
		}
	}
	return nil
}

// validateTagColumns checks the tag keys of --tag-columns, which imply
// --tags: a column of tags never read would only ever say "?".
func (o *scanOptions) validateTagColumns() error {
	for i, k := range o.TagColumns {
		if err := scan.CheckTagKey(k); err != nil {
			return usagef("--tag-columns: %v", err)
		}
		if slices.Contains(o.TagColumns[:i], k) {
			return usagef("--tag-columns names %q twice: give each tag key once", k)
		}
	}
	if len(o.TagColumns) > 0 {
		o.Tags = true
	}
	return nil
}

// selectionOptions are the flags that choose accounts, shared by scan and
// remediate.
type selectionOptions struct {
	OUs             []string
	ExcludeOUs      []string
	Accounts        []string
	AccountsFile    string
	ExcludeAccounts []string
}

// selectionFlags names the flags of selectionOptions, for messages.
var selectionFlags = []string{"ou", "exclude-ou", "accounts", "accounts-file", "exclude-accounts"}

// addSelectionFlags defines the selection flags; verb is what the command
// does to the accounts it selects.
func addSelectionFlags(d *flagDefs, s *selectionOptions, verb string) {
	d.valueFlag(listFlag{&s.OUs}, "ou", "", "ID", verb+" only this OU's subtree (repeatable; r-xxxx for all)")
	d.valueFlag(listFlag{&s.ExcludeOUs}, "exclude-ou", "", "ID", "skip this OU's subtree (repeatable)")
	d.valueFlag(listFlag{&s.Accounts}, "accounts", "", "ID,...", verb+" only these accounts")
	d.stringFlag(&s.AccountsFile, "accounts-file", "", "FILE", "", "one account id per line, # comments").file()
	d.valueFlag(listFlag{&s.ExcludeAccounts}, "exclude-accounts", "", "ID,...", "skip these accounts")
}

// filter is the selection as the library takes it.
func (o *selectionOptions) filter() scan.Filter {
	return scan.Filter{OUs: o.OUs, ExcludeOUs: o.ExcludeOUs, Accounts: o.Accounts, ExcludeAccounts: o.ExcludeAccounts}
}

// validate checks the ids and reads --accounts-file into Accounts.
func (o *selectionOptions) validate() error {
	for _, list := range []struct {
		flag string
		ids  []string
	}{{"--ou", o.OUs}, {"--exclude-ou", o.ExcludeOUs}} {
		for _, id := range list.ids {
			if !ouIDPattern.MatchString(id) {
				return usagef("%s %q is not an OU or root id: use ou-xxxx-xxxxxxxx or r-xxxx", list.flag, id)
			}
		}
	}
	for _, id := range o.OUs {
		if slices.Contains(o.ExcludeOUs, id) {
			return usagef("OU %s is both in --ou and --exclude-ou: give it once", id)
		}
	}
	if o.AccountsFile != "" {
		ids, err := readAccountsFile(o.AccountsFile)
		if err != nil {
			return err
		}
		o.Accounts = append(o.Accounts, ids...)
	}
	for _, list := range []struct {
		flag string
		ids  []string
	}{{"--accounts", o.Accounts}, {"--exclude-accounts", o.ExcludeAccounts}} {
		for _, id := range list.ids {
			if !accountIDPattern.MatchString(id) {
				return usagef("%s: account id %q is not 12 digits: give ids like 123456789012", list.flag, id)
			}
		}
	}
	for _, id := range o.Accounts {
		if slices.Contains(o.ExcludeAccounts, id) {
			return usagef("account %s is both requested and excluded: drop it from --accounts or --exclude-accounts", id)
		}
	}
	return nil
}

// parseFailSeverity reads a --fail-severity value (scan and diff).
func parseFailSeverity(v string) (scan.Severity, error) {
	s, err := scan.ParseSeverity(v)
	if err != nil {
		return "", usagef("--fail-severity: %v", err)
	}
	return s, nil
}

// readAccountsFile reads one account id per line; '#' starts a comment.
func readAccountsFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("--accounts-file %s: cannot read it (%v): give a text file with one account id per line", path, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxAccountsFile+1))
	if err != nil {
		return nil, usagef("--accounts-file %s: %v", path, unwrapPathError(err))
	}
	if len(data) > maxAccountsFile {
		return nil, usagef("--accounts-file %s is larger than %d MiB: an accounts file lists at most a few hundred thousand ids", path, maxAccountsFile>>20)
	}
	ids, err := parseAccountIDs(data)
	if err != nil {
		return nil, usagef("--accounts-file %s: %v", path, err)
	}
	return ids, nil
}

// parseAccountIDs parses an accounts file's content.
func parseAccountIDs(data []byte) ([]string, error) {
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return nil, errors.New("is not a text file: give one 12-digit account id per line")
	}
	var ids []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxAccountsFile)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if !accountIDPattern.MatchString(line) {
			return nil, fmt.Errorf("line %d: %q is not a 12-digit account id", n, truncate(line, 40))
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return ids, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkDeliveryFlags checks the flags of logging and S3 delivery that scan
// and remediate share.
func checkDeliveryFlags(logFormat, sse, kmsKeyID, expectedOwner string) error {
	switch {
	case !logFormats.has(logFormat):
		return usagef("--log-format %q is not known: use %s", logFormat, logFormats)
	case !sseAlgorithms.has(sse):
		return usagef("--sse %q is not known: use %s", sse, sseAlgorithms)
	case kmsKeyID != "" && sse != "aws:kms":
		return usagef("--sse-kms-key-id needs --sse aws:kms")
	case expectedOwner != "" && !accountIDPattern.MatchString(expectedOwner):
		return usagef("--expected-bucket-owner %q is not a 12-digit account id", expectedOwner)
	}
	return nil
}
