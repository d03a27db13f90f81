package cli

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/assume"
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

	OUs             []string
	ExcludeOUs      []string
	Accounts        []string
	AccountsFile    string
	ExcludeAccounts []string
	IncludeInactive bool

	Details    bool
	RecentDays int
	MaxAgeDays int

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

// repeatFlag is a repeatable flag whose values are kept whole.
type repeatFlag struct{ values *[]string }

func (r repeatFlag) String() string {
	if r.values == nil {
		return ""
	}
	return strings.Join(*r.values, " ")
}

func (r repeatFlag) Set(v string) error { *r.values = append(*r.values, v); return nil }

func newScanFlagSet(o *scanOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.Access, "access", "auto", "")
	fs.StringVar(&o.RoleName, "role-name", defaultRoleName, "")
	fs.StringVar(&o.RoleARNTemplate, "role-arn-template", "", "")
	fs.StringVar(&o.ExternalID, "external-id", "", "")
	fs.StringVar(&o.SessionName, "session-name", "", "")
	fs.DurationVar(&o.Duration, "duration", 15*time.Minute, "")
	fs.StringVar(&o.Profile, "profile", "", "")
	fs.StringVar(&o.Region, "region", "", "")
	fs.StringVar(&o.EndpointURL, "endpoint-url", "", "")
	fs.IntVar(&o.Concurrency, "concurrency", defaultConcurrency, "")
	fs.DurationVar(&o.AccountTimeout, "account-timeout", 2*time.Minute, "")
	fs.Var(listFlag{&o.OUs}, "ou", "")
	fs.Var(listFlag{&o.ExcludeOUs}, "exclude-ou", "")
	fs.Var(listFlag{&o.Accounts}, "accounts", "")
	fs.StringVar(&o.AccountsFile, "accounts-file", "", "")
	fs.Var(listFlag{&o.ExcludeAccounts}, "exclude-accounts", "")
	fs.BoolVar(&o.IncludeInactive, "include-inactive", false, "")
	fs.BoolVar(&o.Details, "details", false, "")
	fs.IntVar(&o.RecentDays, "recent-days", 90, "")
	fs.IntVar(&o.MaxAgeDays, "max-age-days", 365, "")
	fs.StringVar(&o.Format, "format", "table", "")
	fs.StringVar(&o.Format, "f", "table", "")
	fs.Var(repeatFlag{&o.Outs}, "out", "")
	fs.Var(repeatFlag{&o.Outs}, "o", "")
	fs.StringVar(&o.SSE, "sse", "AES256", "")
	fs.StringVar(&o.SSEKMSKeyID, "sse-kms-key-id", "", "")
	fs.StringVar(&o.ExpectedOwner, "expected-bucket-owner", "", "")
	fs.BoolVar(&o.FailOnFindings, "fail-on-findings", false, "")
	fs.StringVar(&o.FailSeverity, "fail-severity", string(scan.SeverityLow), "")
	fs.StringVar(&o.Baseline, "baseline", "", "")
	fs.BoolVar(&o.Quiet, "quiet", false, "")
	fs.BoolVar(&o.Quiet, "q", false, "")
	fs.StringVar(&o.LogFormat, "log-format", "text", "")
	fs.BoolVar(&o.Debug, "debug", false, "")
	return fs
}

// parseScanOptions parses and validates the scan flags. Every error is a
// usageError naming the input and the fix.
func parseScanOptions(args []string) (*scanOptions, error) {
	o := &scanOptions{}
	fs := newScanFlagSet(o)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v (see `orgscan scan --help`)", err)
	}
	if fs.NArg() > 0 {
		return nil, usagef("unexpected argument %q: scan takes only flags (see `orgscan scan --help`)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.formatSet = set["format"] || set["f"]
	if err := o.validate(set); err != nil {
		return nil, err
	}
	return o, nil
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	ouIDPattern      = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)
)

func (o *scanOptions) validate(set map[string]bool) error {
	switch o.Access {
	case "auto", assume.MethodAssumeRole, assume.MethodAssumeRoot:
	default:
		return usagef("--access %q is not a method: use assume-role, assume-root or auto", o.Access)
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
	if o.RecentDays < 0 || o.MaxAgeDays < 0 {
		return usagef("--recent-days and --max-age-days must not be negative")
	}
	if !set["details"] && (set["recent-days"] || set["max-age-days"]) {
		return usagef("--recent-days and --max-age-days need --details: add --details")
	}
	failAt, err := parseFailSeverity(o.FailSeverity)
	if err != nil {
		return err
	}
	o.failAt = failAt
	if set["fail-severity"] && !o.FailOnFindings {
		return usagef("--fail-severity applies to --fail-on-findings: add --fail-on-findings or drop it")
	}
	switch o.LogFormat {
	case "text", "json":
	default:
		return usagef("--log-format %q is not known: use text or json", o.LogFormat)
	}
	switch o.SSE {
	case "AES256", "aws:kms":
	default:
		return usagef("--sse %q is not known: use AES256 or aws:kms", o.SSE)
	}
	if o.SSEKMSKeyID != "" && o.SSE != "aws:kms" {
		return usagef("--sse-kms-key-id needs --sse aws:kms")
	}
	if o.ExpectedOwner != "" && !accountIDPattern.MatchString(o.ExpectedOwner) {
		return usagef("--expected-bucket-owner %q is not a 12-digit account id", o.ExpectedOwner)
	}
	targets, err := parseTargets(o.Outs, o.Format, o.formatSet)
	if err != nil {
		return err
	}
	o.targets = targets
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
