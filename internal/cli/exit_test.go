package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// exitCases are what commands return, and the status each must end with.
var exitCases = []struct {
	name string
	err  error
	want int
}{
	{"nothing went wrong", nil, exitOK},
	{"a pipeline failure is fatal", &scan.Error{Stage: scan.StageDescribe, Code: scan.CodeAccessDenied, Err: errors.New("may not describe")}, exitFatal},
	{"a failed write is fatal", &fatalError{err: errors.New("upload failed")}, exitFatal},
	{"an unreadable download is fatal even when wrapped as bad input", &readError{err: &usageError{msg: "read s3://b/k"}}, exitFatal},
	{"a fatal error outweighs bad input joined with it", errors.Join(usagef("bad"), &fatalError{err: errors.New("upload failed")}), exitFatal},
	{"an unknown error is fatal", errors.New("something else"), exitFatal},
	{"bad input is a usage error", usagef("--concurrency 0 is out of range"), exitUsage},
	{"a selection the organization does not have is bad input", &scan.Error{Stage: scan.StageDiscover, Code: scan.ErrorCodeInvalidInput, Err: &scan.UnknownOUError{IDs: []string{"ou-ab12-cdef3456"}}}, exitUsage},
	{"an OU that may lie below an unlisted one is no usage error", &scan.Error{Stage: scan.StageDiscover, Code: scan.CodeNotListed, Err: errors.New("not found")}, exitFatal},
	{"an incomplete report", errIncomplete, exitIncomplete},
	{"findings asked to fail the run", errFindings, exitFindings},
	{"an interrupted scan", errInterrupted, exitInterrupted},
	{"an interruption outweighs the write failure it explains", errors.Join(&fatalError{err: errors.New("x")}, &interruptedError{err: errors.New("upload failed")}), exitInterrupted},
	{"a pipeline step cut short by the context is an interruption", scan.StageError(scan.StageIdentify, fmt.Errorf("identify: %w", context.Canceled), ""), exitInterrupted},
	{"a --delete that would leave a password without MFA is bad usage", fmt.Errorf("--delete mfa: %w", &scan.Error{Stage: scan.StageConfig, Code: remediate.ErrorCodeUnsafeSelection, Err: errors.New("refused")}), exitUsage},
	{"an edited plan is bad input", &scan.Error{Stage: remediate.StagePlan, Code: remediate.ErrorCodePlanEdited, Err: errors.New("edited")}, exitUsage},
	{"another organization's plan is bad input", &scan.Error{Stage: remediate.StagePlan, Code: remediate.ErrorCodePlanOtherOrganization, Err: errors.New("other")}, exitUsage},
	{"a plan too old is bad input", &scan.Error{Stage: remediate.StagePlan, Code: remediate.ErrorCodePlanTooOld, Err: errors.New("old")}, exitUsage},
	{"a file that is no plan is bad input", &scan.Error{Stage: remediate.StagePlan, Code: remediate.ErrorCodeMalformedPlan, Err: errors.New("not a plan")}, exitUsage},
	{"root credentials management disabled is fatal", &scan.Error{Stage: scan.StageFeatures, Code: remediate.ErrorCodeRootCredentialsManagementDisabled, Err: errors.New("disabled")}, exitFatal},
	{"an unconfirmed apply is bad usage", usagef("nothing was deleted"), exitUsage},
}

func TestExitCode(t *testing.T) {
	for _, tc := range exitCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.err); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

// TestREADMEExitStatusesAreTheOnesExitCodeReturns: the README's table lists
// exactly the statuses the table above proves exitCode returns.
func TestREADMEExitStatusesAreTheOnesExitCodeReturns(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "### Exit status\n")
	if !ok {
		t.Fatal("README has no Exit status section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	documented := map[int]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(section, -1) {
		n, _ := strconv.Atoi(m[1])
		documented[n] = true
	}
	returned := map[int]bool{}
	for _, tc := range exitCases {
		returned[exitCode(tc.err)] = true
	}
	if got, want := slices.Sorted(maps.Keys(documented)), slices.Sorted(maps.Keys(returned)); !slices.Equal(got, want) {
		t.Errorf("README documents exit statuses %v; exitCode returns %v", got, want)
	}
}

// TestReportErrorWordsHintsAsFlags: the library names the fix as data,
// and the command line turns it into advice about its flags.
func TestReportErrorWordsHintsAsFlags(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "no"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a key the endpoint does not know names --endpoint-url", &scan.Error{Stage: scan.StageIdentify, Hint: scan.HintInvalidKey, Err: errors.New("identify")}, "check the credentials and --endpoint-url"},
		{"missing credentials name --profile", &scan.Error{Stage: scan.StageIdentify, Hint: scan.HintCredentials, Err: errors.New("identify")}, "set AWS_PROFILE or --profile"},
		{"a refused listing names the permissions", scan.StageError(scan.StageDiscover, denied, scan.HintOrganizationsAccess), "the caller needs organizations:ListRoots"},
		{"an answer that is not AWS's names --endpoint-url", &scan.Error{Stage: scan.StageDescribe, Hint: scan.HintEndpoint, Err: errors.New("bad id")}, "bad id; check --endpoint-url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			reportError(&b, "orgscan", tc.err)
			if !strings.Contains(b.String(), tc.want) || strings.Count(b.String(), "\n") != 1 {
				t.Errorf("reported %q, want one line with %q", b.String(), tc.want)
			}
		})
	}
	t.Run("outcomes print nothing", func(t *testing.T) {
		var b bytes.Buffer
		for _, o := range []error{errIncomplete, errFindings, errInterrupted, nil} {
			reportError(&b, "orgscan", o)
		}
		if b.Len() != 0 {
			t.Errorf("outcomes printed %q", b.String())
		}
	})
}

// TestRowAdviceNamesTheFlag: a row's hint becomes the flag that fixes it,
// as the report has always worded it.
func TestRowAdviceNamesTheFlag(t *testing.T) {
	for hint, flag := range map[scan.Hint]string{
		scan.HintIncludeInactive: "--include-inactive",
		scan.HintAccountTimeout:  "--account-timeout",
		scan.HintConcurrency:     "--concurrency",
	} {
		if got := rowAdvice(hint); !strings.Contains(got, flag) {
			t.Errorf("rowAdvice(%s) = %q, want it to name %s", hint, got, flag)
		}
	}
	if got := rowAdvice(""); got != "" {
		t.Errorf("a row without hint gets advice %q", got)
	}
}
