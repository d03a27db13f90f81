// Package cli is orgscan's command line: flag parsing, wiring of the scan
// pipeline and the mapping of outcomes to exit statuses. The library
// packages under pkg/ know nothing of flags or exit codes.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const usageText = `orgscan: audit the root user of every account in an AWS Organization.

Usage:
  orgscan scan [flags]       scan the organization (run from the management
                             account or a delegated administrator)
  orgscan demo [flags]       the same scan against a built-in simulated AWS
  orgscan diff OLD NEW       compare two reports (local paths or s3:// URIs)
  orgscan version            print the version

Run 'orgscan scan --help' for the scan flags.

Exit status:
  0    complete: every account scanned (and no findings, with --fail-on-findings)
  1    fatal: no credentials, cannot list the organization, upload failed
  2    bad usage or input
  3    incomplete: some accounts could not be scanned (the report says which)
  4    findings at or above --fail-severity and --fail-on-findings set
       (diff: new findings)
  130  interrupted: the partial report was written, marked incomplete
`

const scanHelp = `Usage: orgscan scan [flags]

Access
  --access METHOD            assume-role, assume-root or auto (default auto: root
                             sessions where the organization manages root
                             credentials centrally, with the other as fallback)
  --role-name NAME           audit role in each account (default OrganizationAccountAccessRole)
  --role-arn-template T      role ARN with {partition} and {account_id}, for roles with a path
  --external-id ID           sts:ExternalId the audit role requires
  --session-name NAME        role session name (default orgscan-<caller>)
  --duration D               session duration, 15m to 12h (default 15m; root sessions at most 15m)
  --profile NAME             AWS profile;  --region R  AWS region (default us-east-1)
  --endpoint-url URL         AWS endpoint (AWS_ENDPOINT_URL* variables also apply)

Selection
  --ou ID                    scan only this OU's subtree (repeatable; r-xxxx for all)
  --exclude-ou ID            skip this OU's subtree (repeatable)
  --accounts ID,...          scan only these accounts
  --accounts-file FILE       one account id per line, # comments
  --exclude-accounts ID,...  skip these accounts
  --include-inactive         try accounts that are not ACTIVE instead of skipping them

Scan
  --concurrency N            accounts scanned at once, 1-1000 (default 20)
  --account-timeout D        time limit for one account (default 2m)
  --details                  add root credential details: key ids, ages, last use
  --recent-days N            with --details: a key used within N days is in use (default 90)
  --max-age-days N           with --details: a credential older than N days is old (default 365)

Output
  -f, --format F             table, csv, json, ndjson or html (default table)
  -o, --out TARGET           file path, s3://bucket/key or s3://bucket/prefix/ (repeatable;
                             format from the extension; a prefix gets
                             org=<id>/date=<YYYY-MM-DD>/orgscan-<time>.<ext>)
  --sse ALG                  S3 server-side encryption: AES256 or aws:kms (default AES256)
  --sse-kms-key-id ARN       KMS key for --sse aws:kms
  --expected-bucket-owner ID refuse a bucket of another account (--out, --baseline)
  --baseline s3://b/prefix/  compare with the newest earlier report under the prefix
  --fail-on-findings         exit 4 when any account has findings of the
                             --fail-severity or more
  --fail-severity S          critical, high, medium, low or informational
                             (default low: the management account's root
                             password, informational, does not fail)
  -q, --quiet                no progress, only warnings on stderr
  --log-format F             text or json logs on stderr (default text)
  --debug                    trace AWS requests on stderr (secrets redacted)
`

// Main runs orgscan and returns its exit status.
func Main(ctx context.Context, args []string, st *Streams) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first interrupt, a second one ends the process the
		// default way instead of waiting for the report to be written.
		<-ctx.Done()
		stop()
	}()
	return run(ctx, runEnv{streams: st, now: time.Now, version: Version()}, args)
}

// run dispatches a subcommand without installing signal handlers.
func run(ctx context.Context, env runEnv, args []string) int {
	st := env.streams
	if len(args) == 0 {
		fmt.Fprint(st.ErrOut, usageText)
		return exitUsage
	}
	switch args[0] {
	case "scan":
		return scanCommand(ctx, env, args[1:], "scan")
	case "demo":
		return demoCommand(ctx, env, args[1:])
	case "diff":
		return diffCommand(ctx, env, args[1:])
	case "version", "--version":
		return versionCommand(env, args[1:])
	case "help", "-h", "--help":
		fmt.Fprint(st.Out, usageText)
		return exitOK
	}
	fmt.Fprintf(st.ErrOut, "orgscan: unknown command %q: use scan, demo, diff or version (see `orgscan help`)\n", args[0])
	return exitUsage
}

// parseOrExit parses scan flags; ok is false when the run should end with
// the returned status (help printed or bad input).
func parseOrExit(env runEnv, args []string, name string) (*scanOptions, int, bool) {
	o, err := parseScanOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(env.streams.Out, scanHelp)
		return nil, exitOK, false
	}
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan %s: %v\n", name, err)
		return nil, exitUsage, false
	}
	return o, 0, true
}

func scanCommand(ctx context.Context, env runEnv, args []string, name string) int {
	o, code, ok := parseOrExit(env, args, name)
	if !ok {
		return code
	}
	return runScan(ctx, env, o)
}
