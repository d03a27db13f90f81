package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/awssim/faults"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// The demo world's credentials that the default plan deletes, by account,
// and the key it holds because it was used within 90 days of fixedNow.
var (
	demoDeletions = map[string][]string{
		"417395028461": {"Q3R7ZK2M9XW4TB6PLN8DCV5HJ1FGS0AE"},
		"548201937465": {"AKIAL3G8V1N5T2RQ7HYB", "M2K8W5R1Z9Q4N7B3X6C0V2L5T8H1J4PD"},
		"559673204818": {"AKIAT9W2E6R4Y8U1I3OP"},
		"625830194726": {"AKIAB4N7M1Q9W3E5R8TY", "AKIAZ6X2C8V4B1N7M3QW"},
	}
	demoHeldKey = [2]string{"520384716293", "AKIAXR7Q2M4K9PLZ3WCD"}
)

const demoOrgID = "o-7fk2mq9x4a"

// remediateWith runs `orgscan remediate args...` against the simulator as
// the management account's administrator, on the given streams.
func (s *sim) remediateWith(t *testing.T, st *Streams, args ...string) int {
	t.Helper()
	cred, err := s.fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	env := runEnv{
		streams: st, now: func() time.Time { return fixedNow }, version: "test",
		credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		fallbackDir: s.fallbackDir,
	}
	if s.now != nil {
		env.now = s.now
	}
	return run(context.Background(), env, append([]string{"remediate", "--endpoint-url", s.srv.URL(), "--region", "us-east-1"}, args...))
}

// remediate runs `orgscan remediate args...` on streams that are no
// terminal.
func (s *sim) remediate(t *testing.T, args ...string) result {
	t.Helper()
	st, out, errOut := Test()
	code := s.remediateWith(t, st, args...)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// mutations counts the IAM calls that asked to change something.
func (s *sim) mutations() int64 { return s.srv.Stats().Total("iam").Mutations }

// rootSessions counts sts:AssumeRoot requests.
func (s *sim) rootSessions() int64 { return s.srv.Stats().Operations["sts:AssumeRoot"].Requests }

// rootCredentialIDs lists the ids of an account's root keys and
// certificates as the simulator's world holds them now.
func (s *sim) rootCredentialIDs(accountID string) []string {
	u := s.srv.RootUser(accountID)
	var ids []string
	for _, k := range u.AccessKeys {
		ids = append(ids, k.ID)
	}
	for _, c := range u.SigningCertificates {
		ids = append(ids, c.ID)
	}
	return ids
}

func readRemediation(t *testing.T, data []byte) *remediate.Report {
	t.Helper()
	var rep remediate.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("not a remediation report: %v\n%.300s", err, data)
	}
	return &rep
}

func readRemediationFile(t *testing.T, path string) *remediate.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readRemediation(t, data)
}

// deletedIDs lists the credential ids a report says it deleted, by account.
func deletedIDs(rep *remediate.Report) map[string][]string {
	got := map[string][]string{}
	for _, a := range rep.Accounts {
		for _, act := range a.Actions {
			if act.Outcome == remediate.OutcomeDeleted {
				got[a.AccountID] = append(got[a.AccountID], act.ID)
			}
		}
	}
	for _, ids := range got {
		slices.Sort(ids)
	}
	return got
}

func sortedDemoDeletions() map[string][]string {
	want := map[string][]string{}
	for id, ids := range demoDeletions {
		want[id] = slices.Sorted(slices.Values(ids))
	}
	return want
}

func TestRemediateFlagsParseAsPeopleTypeThem(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(o *remediateOptions) bool
	}{
		{"no flag plans the default deletion", nil, func(o *remediateOptions) bool {
			return slices.Equal(o.Delete, []string{"access-keys", "signing-certificates"}) && o.selection == remediate.DefaultSelection() &&
				o.RecentDays == 90 && !o.IncludeRecentlyUsed && !o.Apply && o.MaxPlanAge == 24*time.Hour && o.Format == "table" &&
				o.Concurrency == defaultConcurrency && o.AccountTimeout == 2*time.Minute && len(o.targets) == 1 && o.targets[0].stdout
		}},
		{"--delete replaces the default", []string{"--delete", "password,access-keys"}, func(o *remediateOptions) bool {
			return slices.Equal(o.Delete, []string{"password", "access-keys"}) &&
				o.selection == remediate.Selection{AccessKeys: true, Password: true}
		}},
		{"--delete repeated adds to what was given", []string{"--delete=access-keys", "--delete", "password", "--delete", "mfa"}, func(o *remediateOptions) bool {
			return o.selection == remediate.Selection{AccessKeys: true, Password: true, MFA: true}
		}},
		{"--delete all selects every kind", []string{"--delete", "all"}, func(o *remediateOptions) bool {
			return o.selection == remediate.Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
		}},
		{"--apply --yes confirms without asking", []string{"--apply", "--yes"}, func(o *remediateOptions) bool {
			return o.Apply && o.Yes && !o.confirm
		}},
		{"a saved plan with its age limit", []string{"--apply", "--yes", "--plan", "plan.json", "--max-plan-age=2h"}, func(o *remediateOptions) bool {
			return o.Plan == "plan.json" && o.planS3 == nil && o.MaxPlanAge == 2*time.Hour
		}},
		{"a plan in S3", []string{"--apply", "--yes", "--plan", "s3://orgscan-reports/plans/p.json", "--expected-bucket-owner", "210987654321"}, func(o *remediateOptions) bool {
			return o.planS3 != nil && o.planS3.Bucket == "orgscan-reports" && o.planS3.Key == "plans/p.json"
		}},
		{"selection flags as scan takes them", []string{"--ou", "ou-ab12-abcdefgh,r-ab12", "--exclude-accounts", "123456789012"}, func(o *remediateOptions) bool {
			return slices.Equal(o.OUs, []string{"ou-ab12-abcdefgh", "r-ab12"}) && slices.Equal(o.filter().ExcludeAccounts, []string{"123456789012"})
		}},
		{"outputs take their format from the extension", []string{"--out", "plan.json", "-o", "plan.html"}, func(o *remediateOptions) bool {
			return len(o.targets) == 2 && o.targets[0].format == "json" && o.targets[1].format == "html"
		}},
		{"recently used keys can be included", []string{"--include-recently-used"}, func(o *remediateOptions) bool {
			return o.IncludeRecentlyUsed
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, newCmd := range []func(*runEnv, func(*remediateOptions) error) *cobra.Command{newCmdRemediate, newCmdDemoRemediate} {
				dir := t.TempDir()
				args := slices.Clone(tt.args)
				for i, a := range args {
					if strings.HasSuffix(a, ".json") && !strings.HasPrefix(a, "s3:") || strings.HasSuffix(a, ".html") {
						args[i] = filepath.Join(dir, a)
					}
				}
				o, err := parseArgs(t, newCmd, args...)
				if err != nil {
					t.Fatalf("%v: %v", args, err)
				}
				if o.Plan != "" && o.planS3 == nil {
					o.Plan = filepath.Base(o.Plan)
				}
				if !tt.check(o) {
					t.Errorf("%v parsed into %+v", args, *o)
				}
			}
		})
	}
}

// TestRemediateBadUsageIsOneLineExitTwoBeforeAnyAWSCall: every refusal of
// the flags names the flag and the fix, and the simulator sees no request.
func TestRemediateBadUsageIsOneLineExitTwoBeforeAnyAWSCall(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.json")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a plan without --apply", []string{"--plan", plan}, "add --apply"},
		{"--yes without --apply", []string{"--yes"}, "--yes confirms --apply"},
		{"--max-plan-age without a plan", []string{"--apply", "--yes", "--max-plan-age", "1h"}, "--max-plan-age applies to --plan"},
		{"a negative plan age", []string{"--apply", "--yes", "--plan", plan, "--max-plan-age=-1h"}, "must be positive"},
		{"a selection with a saved plan", []string{"--apply", "--yes", "--plan", plan, "--ou", "r-8k2q"}, "--ou does not apply with --plan"},
		{"a --delete with a saved plan", []string{"--apply", "--yes", "--plan", plan, "--delete", "all"}, "--delete does not apply with --plan"},
		{"an empty plan name", []string{"--apply", "--yes", "--plan="}, "--plan needs a file"},
		{"a plan that is an S3 prefix", []string{"--apply", "--yes", "--plan", "s3://orgscan-reports/plans/"}, "is a prefix"},
		{"MFA devices alone", []string{"--delete", "mfa"}, "--delete mfa"},
		{"MFA devices with the password but not the keys", []string{"--delete", "password,mfa"}, "--delete all"},
		{"an unknown kind", []string{"--delete", "passwords"}, `"passwords" is not known`},
		{"no recent-use window", []string{"--recent-days", "0"}, "--include-recently-used"},
		{"a window and no window", []string{"--include-recently-used", "--recent-days", "30"}, "drop one"},
		{"recent use without keys to delete", []string{"--delete", "signing-certificates", "--include-recently-used"}, "add access-keys to --delete"},
		{"an unknown format", []string{"-f", "xml"}, "xml"},
		{"a scan-only format", []string{"--out", filepath.Join(dir, "r.ocsf.json"), "-f", "ocsf"}, "ocsf"},
		{"evidence over the plan applied", []string{"--apply", "--yes", "--plan", plan, "--out", plan}, "would replace the plan"},
		{"encryption without an upload", []string{"--sse", "aws:kms"}, "--sse"},
		{"an argument", []string{"now"}, `unexpected argument "now"`},
		{"a bad OU", []string{"--ou", "ou-1"}, "--ou"},
		{"concurrency out of range", []string{"--concurrency", "0"}, "--concurrency"},
		{"--apply without a terminal or --yes", []string{"--apply"}, "add --yes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := s.requests()
			res := s.remediate(t, tt.args...)
			msg := strings.TrimSuffix(res.stderr, "\n")
			if res.code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line naming %q", res.code, res.stderr, tt.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout = %q, want nothing", res.stdout)
			}
			if n := s.requests() - before; n != 0 {
				t.Errorf("the simulator saw %d requests; bad usage must be refused before any", n)
			}
		})
	}
}

// TestRemediateApplyWithoutATerminalNeedsYes: nobody can type the
// organization id without a terminal on both stdin and stderr, so --apply
// is refused before even the configuration is loaded: no request at all,
// and so no root session. With --yes the same run deletes.
func TestRemediateApplyWithoutATerminalNeedsYes(t *testing.T) {
	for _, tc := range []struct {
		name          string
		stdin, stderr bool
	}{
		{"neither stdin nor stderr is a terminal", false, false},
		{"stdin is piped", false, true},
		{"stderr is redirected, so the question would not be seen", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			st, out, errOut := Test()
			st.In = strings.NewReader(demoOrgID + "\n")
			st.SetStdinTerminal(tc.stdin)
			st.SetTerminal(false, tc.stderr)
			if code := s.remediateWith(t, st, "--apply"); code != exitUsage {
				t.Fatalf("exit %d, want 2: %s", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), "add --yes") || out.Len() != 0 {
				t.Errorf("stderr %q, stdout %q: want the advice to add --yes and no report", errOut.String(), out.String())
			}
			if n := s.requests(); n != 0 {
				t.Errorf("the simulator saw %d requests (%d sts:AssumeRoot); an unconfirmed apply must make none", n, s.rootSessions())
			}
		})
	}
	t.Run("with --yes the same apply deletes", func(t *testing.T) {
		s := startSim(t, demoWorld(t), awssim.Options{})
		res := s.remediate(t, "--apply", "--yes", "-q", "-f", "json")
		if res.code != exitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		rep := readRemediation(t, []byte(res.stdout))
		if got, want := deletedIDs(rep), sortedDemoDeletions(); !mapsEqual(got, want) {
			t.Errorf("the evidence lists deletions %v, want %v", got, want)
		}
		for id := range demoDeletions {
			if left := s.rootCredentialIDs(id); len(left) != 0 {
				t.Errorf("account %s still has %v", id, left)
			}
		}
	})
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// TestRemediatePlanChangesNothing: the default run opens audit sessions,
// makes the plan, saves it readable by its owner only, and asks IAM to
// change nothing.
func TestRemediatePlanChangesNothing(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	path := filepath.Join(t.TempDir(), "plan.json")
	res := s.remediate(t, "-q", "--out", path, "--out", "-")
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if n := s.mutations(); n != 0 {
		t.Fatalf("planning made %d mutating IAM calls, want 0", n)
	}
	if s.rootSessions() == 0 {
		t.Fatal("the plan opened no root session: it cannot have listed the root users")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("plan file mode %v, want 0600", fi.Mode().Perm())
	}
	plan := readRemediationFile(t, path)
	m := plan.Remediation
	if m.Mode != remediate.ModePlan || m.OrganizationID != demoOrgID || !strings.HasPrefix(m.Plan.Digest, "sha256:") || m.Plan.CreatedBy == "" {
		t.Errorf("plan provenance %+v", m)
	}
	planned := map[string][]string{}
	for _, a := range plan.Accounts {
		for _, act := range a.Actions {
			switch act.Decision {
			case remediate.DecisionDelete:
				planned[a.AccountID] = append(planned[a.AccountID], act.ID)
			case remediate.DecisionHold:
				if a.AccountID != demoHeldKey[0] || act.ID != demoHeldKey[1] || act.Hold != remediate.HoldRecentlyUsed {
					t.Errorf("held %s in %s (%s), want only the recently used key", act.ID, a.AccountID, act.Hold)
				}
			}
		}
	}
	for _, ids := range planned {
		slices.Sort(ids)
	}
	if !mapsEqual(planned, sortedDemoDeletions()) {
		t.Errorf("the plan deletes %v, want %v", planned, sortedDemoDeletions())
	}
	if !strings.Contains(res.stdout, "PLAN") {
		t.Errorf("the table on stdout does not say it is a plan:\n%s", res.stdout)
	}
}

// readRemediationNDJSON reads an NDJSON remediation report: one account a
// line.
func readRemediationNDJSON(t *testing.T, path string) []remediate.Account {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var accounts []remediate.Account
	for i, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var a remediate.Account
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%s line %d: %v", path, i+1, err)
		}
		accounts = append(accounts, a)
	}
	return accounts
}

// TestRemediateStreamsNDJSONFiles: NDJSON files take each account as it
// completes, as NDJSON on stdout does; when every output does, the run
// keeps none, and each file still holds every account once.
func TestRemediateStreamsNDJSONFiles(t *testing.T) {
	tests := []struct {
		name  string
		apply bool
		outs  []string // file names in a temporary directory
	}{
		{"an apply's evidence in two NDJSON files", true, []string{"a.ndjson", "b.ndjson"}},
		{"an apply's evidence in NDJSON beside JSON", true, []string{"evidence.ndjson", "evidence.json"}},
		{"a plan in NDJSON", false, []string{"plan.ndjson"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			dir := t.TempDir()
			args := []string{"-q"}
			if tt.apply {
				args = append(args, "--apply", "--yes")
			}
			for _, o := range tt.outs {
				args = append(args, "--out", filepath.Join(dir, o))
			}
			if res := s.remediate(t, args...); res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			for _, o := range tt.outs {
				path := filepath.Join(dir, o)
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", o, fi.Mode().Perm())
				}
				var rep *remediate.Report
				if filepath.Ext(o) == ".json" {
					rep = readRemediationFile(t, path)
				} else {
					rep = &remediate.Report{Accounts: readRemediationNDJSON(t, path)}
				}
				ids := map[string]bool{}
				for _, a := range rep.Accounts {
					if ids[a.AccountID] {
						t.Errorf("%s holds account %s twice", o, a.AccountID)
					}
					ids[a.AccountID] = true
				}
				if len(ids) != len(s.fx.Accounts) {
					t.Errorf("%s holds %d accounts, want the organization's %d", o, len(ids), len(s.fx.Accounts))
				}
				if !tt.apply {
					continue
				}
				if got := deletedIDs(rep); !mapsEqual(got, sortedDemoDeletions()) {
					t.Errorf("%s records the deletions %v, want %v", o, got, sortedDemoDeletions())
				}
			}
		})
	}
}

// TestRemediateConfirmationOnATerminal: the apply shows its totals and
// deletes only when the organization id is typed.
func TestRemediateConfirmationOnATerminal(t *testing.T) {
	tests := []struct {
		name     string
		typed    string
		wantCode int
		wantErr  string
	}{
		{"typing the organization id deletes", demoOrgID + "\n", exitOK, ""},
		{"typing it with spaces around still deletes", "  " + demoOrgID + " \n", exitOK, ""},
		{"another answer deletes nothing", "yes\n", exitUsage, `"yes" is not the organization id`},
		{"another organization's id deletes nothing", "o-aaaaaaaaaa\n", exitUsage, "is not the organization id"},
		{"the end of input deletes nothing", "", exitUsage, "no organization id was typed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			out := filepath.Join(t.TempDir(), "evidence.json")
			st, _, errOut := Test()
			st.In = strings.NewReader(tt.typed)
			st.SetStdinTerminal(true)
			st.SetTerminal(false, true)
			code := s.remediateWith(t, st, "--apply", "-q", "--out", out)
			stderr := errOut.String()
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tt.wantCode, stderr)
			}
			for _, want := range []string{"organization " + demoOrgID, "4 access keys", "2 signing certificates",
				"in 4 member accounts", "1 credential held", "Type the organization id"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the confirmation does not show %q:\n%s", want, stderr)
				}
			}
			rep := readRemediationFile(t, out)
			if tt.wantCode != exitOK {
				if n := s.mutations(); n != 0 {
					t.Errorf("an unconfirmed apply made %d mutating calls", n)
				}
				if !strings.Contains(stderr, tt.wantErr) || !strings.Contains(stderr, "nothing was deleted") {
					t.Errorf("stderr %q does not say %q and that nothing was deleted", stderr, tt.wantErr)
				}
				if rep.Remediation.Mode != remediate.ModePlan {
					t.Errorf("the refused apply wrote a %s report; want the plan it made, kept", rep.Remediation.Mode)
				}
				return
			}
			if rep.Remediation.Mode != remediate.ModeApply || !mapsEqual(deletedIDs(rep), sortedDemoDeletions()) {
				t.Errorf("evidence %s deletes %v, want %v", rep.Remediation.Mode, deletedIDs(rep), sortedDemoDeletions())
			}
		})
	}
}

// TestRemediateAppliesAReviewedPlan is the two-person flow: one run plans
// into a file, another applies exactly that file, and its evidence names
// the plan by digest.
func TestRemediateAppliesAReviewedPlan(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	dir := t.TempDir()
	planPath, evidencePath := filepath.Join(dir, "plan.json"), filepath.Join(dir, "evidence.json")
	if res := s.remediate(t, "-q", "--out", planPath); res.code != exitOK {
		t.Fatalf("plan: exit %d: %s", res.code, res.stderr)
	}
	plan := readRemediationFile(t, planPath)

	res := s.remediate(t, "--apply", "--yes", "--plan", planPath, "--out", evidencePath)
	if res.code != exitOK {
		t.Fatalf("apply: exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "plan accepted") || !strings.Contains(res.stderr, plan.Remediation.Plan.Digest) {
		t.Errorf("stderr does not name the accepted plan's digest:\n%s", res.stderr)
	}
	ev := readRemediationFile(t, evidencePath)
	if ev.Remediation.Mode != remediate.ModeApply || ev.Remediation.Plan.Digest != plan.Remediation.Plan.Digest {
		t.Errorf("evidence %s names plan %q, want apply of %q", ev.Remediation.Mode, ev.Remediation.Plan.Digest, plan.Remediation.Plan.Digest)
	}
	if !mapsEqual(deletedIDs(ev), sortedDemoDeletions()) {
		t.Errorf("evidence deletes %v, want %v", deletedIDs(ev), sortedDemoDeletions())
	}
	if left := s.rootCredentialIDs(demoHeldKey[0]); !slices.Equal(left, []string{demoHeldKey[1]}) {
		t.Errorf("the held key's account has %v left, want the held key", left)
	}
}

// TestRemediateRefusesPlansItMustNotApply: an edited plan, another
// organization's, one too old, and a file that is no plan are bad input:
// exit 2 naming the plan, and no delete session opened.
func TestRemediateRefusesPlansItMustNotApply(t *testing.T) {
	dir := t.TempDir()
	demo := startSim(t, demoWorld(t), awssim.Options{})
	planPath := filepath.Join(dir, "plan.json")
	if res := demo.remediate(t, "-q", "--out", planPath); res.code != exitOK {
		t.Fatalf("plan: exit %d: %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	edited := filepath.Join(dir, "edited.json")
	if err := os.WriteFile(edited, []byte(strings.Replace(string(data), "AKIAT9W2E6R4Y8U1I3OP", "AKIAT9W2E6R4Y8U1I3OQ", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	scanReport := filepath.Join(dir, "scan.json")
	if res := demo.run(t, "scan", "-q", "--out", scanReport); res.code != exitOK {
		t.Fatalf("scan: exit %d: %s", res.code, res.stderr)
	}
	other := awssim.Generate(awssim.GenerateOptions{Seed: 5, Accounts: 4, RootKeys: 1})
	if other.Organization.ID == demoOrgID {
		t.Fatal("the generated organization has the demo's id")
	}

	tests := []struct {
		name string
		fx   *awssim.Fixture
		now  time.Time
		args []string
		want string
	}{
		{"an edited plan", demoWorld(t), fixedNow, []string{"--plan", edited}, "does not match its digest"},
		{"another organization's plan", other, fixedNow, []string{"--plan", planPath}, demoOrgID},
		{"a plan older than --max-plan-age", demoWorld(t), fixedNow.Add(25 * time.Hour), []string{"--plan", planPath}, "--max-plan-age"},
		{"a plan older than a shorter age", demoWorld(t), fixedNow.Add(2 * time.Hour), []string{"--plan", planPath, "--max-plan-age", "1h"}, "--max-plan-age"},
		{"a scan report", demoWorld(t), fixedNow, []string{"--plan", scanReport}, scanReport},
		{"a missing file", demoWorld(t), fixedNow, []string{"--plan", filepath.Join(dir, "nope.json")}, "nope.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startSim(t, tt.fx, awssim.Options{})
			s.now = func() time.Time { return tt.now }
			res := s.remediate(t, append([]string{"--apply", "--yes", "-q"}, tt.args...)...)
			msg := strings.TrimSuffix(res.stderr, "\n")
			if res.code != exitUsage || strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) || !strings.Contains(msg, "--plan") {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line naming --plan and %q", res.code, res.stderr, tt.want)
			}
			if s.rootSessions() != 0 || s.mutations() != 0 {
				t.Errorf("a refused plan opened %d root sessions and made %d mutating calls", s.rootSessions(), s.mutations())
			}
		})
	}
}

// TestRemediatePlanAndEvidenceThroughS3: a plan uploaded under a prefix is
// applied from its object, and the evidence lands beside it under a name
// of its own, with metadata that says what it is.
func TestRemediatePlanAndEvidenceThroughS3(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	if res := s.remediate(t, "-q", "--out", "s3://orgscan-reports/remediation/", "--expected-bucket-owner", "210987654321"); res.code != exitOK {
		t.Fatalf("plan: exit %d: %s", res.code, res.stderr)
	}
	planKey := "remediation/org=o-7fk2mq9x4a/date=2026-11-30/remediation-plan-20261130T093000Z.json"
	obj, ok := s.srv.Object(reportBucket, planKey)
	if !ok {
		t.Fatalf("no plan at %s; the bucket holds %v", planKey, s.srv.Objects(reportBucket))
	}
	for k, want := range map[string]string{"X-Amz-Meta-Mode": "plan", "X-Amz-Meta-Org-Id": demoOrgID, "X-Amz-Meta-Kind": remediate.ReportKind} {
		if got := obj.Header.Get(k); got != want {
			t.Errorf("plan metadata %s = %q, want %q", k, got, want)
		}
	}
	res := s.remediate(t, "-q", "--apply", "--yes", "--plan", "s3://orgscan-reports/"+planKey, "--out", "s3://orgscan-reports/remediation/")
	if res.code != exitOK {
		t.Fatalf("apply: exit %d: %s", res.code, res.stderr)
	}
	evKey := "remediation/org=o-7fk2mq9x4a/date=2026-11-30/remediation-20261130T093000Z.json"
	ev, ok := s.srv.Object(reportBucket, evKey)
	if !ok {
		t.Fatalf("no evidence at %s; the bucket holds %v", evKey, s.srv.Objects(reportBucket))
	}
	if got := ev.Header.Get("X-Amz-Meta-Plan-Digest"); got == "" || got != readRemediation(t, obj.Body).Remediation.Plan.Digest {
		t.Errorf("evidence metadata names plan %q", got)
	}
	if !mapsEqual(deletedIDs(readRemediation(t, ev.Body)), sortedDemoDeletions()) {
		t.Errorf("the uploaded evidence deletes %v", deletedIDs(readRemediation(t, ev.Body)))
	}
	t.Run("a plan object that is missing is a failed read, exit 1", func(t *testing.T) {
		res := s.remediate(t, "-q", "--apply", "--yes", "--plan", "s3://orgscan-reports/remediation/none.json")
		if res.code != exitFatal || !strings.Contains(res.stderr, "none.json") {
			t.Errorf("exit %d, stderr %q: want 1 naming the object", res.code, res.stderr)
		}
	})
}

// TestRemediateNeedsRootCredentialsManagement: without it no root session
// can be opened; the run says what to enable, exit 1, before any session.
func TestRemediateNeedsRootCredentialsManagement(t *testing.T) {
	s := startSim(t, awssim.Generate(awssim.GenerateOptions{Seed: 2, Accounts: 4, RootKeys: 1, NoCentralRootAccess: true}), awssim.Options{})
	for _, args := range [][]string{{"-q"}, {"-q", "--apply", "--yes"}} {
		res := s.remediate(t, args...)
		if res.code != exitFatal {
			t.Fatalf("%v: exit %d, want 1: %s", args, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "enable-organizations-root-credentials-management") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("%v: stderr %q does not name, on one line, what to enable", args, res.stderr)
		}
	}
	if s.rootSessions() != 0 || s.mutations() != 0 {
		t.Errorf("%d root sessions and %d mutating calls, want none", s.rootSessions(), s.mutations())
	}
}

// TestDemoRemediate: the demo plans, and with --apply --yes deletes in its
// own simulator and prints the evidence.
func TestDemoRemediate(t *testing.T) {
	// The demo world moves to the day the demo runs: years later, its
	// recently used key is still recent and held.
	later := fixedNow.AddDate(3, 2, 1)
	for _, tc := range []struct {
		args []string
		now  time.Time
		want []string
	}{
		{[]string{"demo", "remediate"}, fixedNow, []string{"PLAN", "AKIAL3G8V1N5T2RQ7HYB", "planned", "recently_used"}},
		{[]string{"demo", "remediate"}, later, []string{"PLAN", "AKIAL3G8V1N5T2RQ7HYB", "planned", "recently_used"}},
		{[]string{"demo", "remediate", "--apply", "--yes"}, fixedNow, []string{"APPLY", "AKIAL3G8V1N5T2RQ7HYB", "deleted", "verified after"}},
	} {
		t.Run(strings.Join(tc.args, " ")+" on "+tc.now.Format(time.DateOnly), func(t *testing.T) {
			st, out, errOut := Test()
			code := run(t.Context(), runEnv{streams: st, now: func() time.Time { return tc.now }, version: "test"}, tc.args)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the output does not show %q:\n%s", want, out.String())
				}
			}
		})
	}
	t.Run("a plan from one demo run is applied by the next", func(t *testing.T) {
		plan := filepath.Join(t.TempDir(), "plan.json")
		env := runEnv{now: func() time.Time { return fixedNow }, version: "test"}
		st, _, errOut := Test()
		env.streams = st
		if code := run(t.Context(), env, []string{"demo", "remediate", "-q", "--out", plan}); code != exitOK {
			t.Fatalf("plan: exit %d: %s", code, errOut.String())
		}
		st, out, errOut := Test()
		env.streams = st
		if code := run(t.Context(), env, []string{"demo", "remediate", "-q", "--apply", "--yes", "--plan", plan, "-f", "json"}); code != exitOK {
			t.Fatalf("apply: exit %d: %s", code, errOut.String())
		}
		if !mapsEqual(deletedIDs(readRemediation(t, out.Bytes())), sortedDemoDeletions()) {
			t.Errorf("the demo's apply deleted %v", deletedIDs(readRemediation(t, out.Bytes())))
		}
	})
}

func TestRemediateCompletion(t *testing.T) {
	const noFiles, files = ":4", ":0"
	deleteWords := []string{"access-keys", "signing-certificates", "password", "mfa", "all"}
	tests := []struct {
		name      string
		line      []string
		want      []string
		directive string
	}{
		{"--delete offers the kinds", []string{"remediate", "--delete", ""}, deleteWords, noFiles},
		{"demo remediate --delete offers them too", []string{"demo", "remediate", "--delete", ""}, deleteWords, noFiles},
		{"-f offers the formats a remediation report has", []string{"remediate", "-f", ""}, []string{"table", "csv", "json", "ndjson", "html"}, noFiles},
		{"--plan offers file names", []string{"remediate", "--apply", "--plan", ""}, nil, files},
		{"demo offers its remediate", []string{"demo", "rem"}, []string{"remediate"}, noFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := complete(t, tt.line...)
			if !slices.Equal(got, tt.want) || directive != tt.directive {
				t.Errorf("completing %q offers %q (%s), want %q (%s)", tt.line, got, directive, tt.want, tt.directive)
			}
		})
	}
	if got, _ := complete(t, "re"); !slices.Contains(got, "remediate") {
		t.Errorf("the first word offers %q, without remediate", got)
	}
}

// TestRemediateAdviceNamesTheFlag: the library's hints become flags.
func TestRemediateAdviceNamesTheFlag(t *testing.T) {
	for hint, want := range map[scan.Hint]string{
		remediate.HintDeleteAll:                       "--delete all",
		remediate.HintMaxPlanAge:                      "--max-plan-age",
		remediate.HintNewPlan:                         "--out plan.json",
		remediate.HintEnableRootCredentialsManagement: "enable-organizations-root-credentials-management",
	} {
		if got := advice(&scan.Error{Hint: hint}); !strings.Contains(got, want) {
			t.Errorf("advice for %s = %q, want it to name %s", hint, got, want)
		}
	}
}

// TestRemediateExitsThreeWhenAnAccountCannotBeEntered: a root session
// refused in one account is that account's error row; the others are
// remediated, and the run exits 3 with the evidence written.
func TestRemediateExitsThreeWhenAnAccountCannotBeEntered(t *testing.T) {
	const denied = "548201937465"
	s := startSim(t, demoWorld(t), awssim.Options{FaultRules: []faults.Rule{{
		Service: "sts", Op: "AssumeRoot", Account: denied, Kind: faults.Error,
		Status: 403, Code: "AccessDenied", Message: "not authorized to perform sts:AssumeRoot",
	}}})
	evidence := filepath.Join(t.TempDir(), "evidence.json")
	res := s.remediate(t, "--apply", "--yes", "--out", evidence)
	if res.code != exitIncomplete {
		t.Fatalf("exit %d, want 3: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "remediation incomplete") {
		t.Errorf("stderr does not say the remediation is incomplete:\n%s", res.stderr)
	}
	ev := readRemediationFile(t, evidence)
	want := sortedDemoDeletions()
	delete(want, denied)
	if !mapsEqual(deletedIDs(ev), want) {
		t.Errorf("the evidence deletes %v, want %v", deletedIDs(ev), want)
	}
	for _, a := range ev.Accounts {
		if a.AccountID == denied && (a.Status != remediate.StatusError || a.Error == nil || a.Error.Code != "AccessDenied") {
			t.Errorf("the denied account's row is %s with error %+v, want an AccessDenied error row", a.Status, a.Error)
		}
	}
	if left := s.rootCredentialIDs(denied); len(left) != 2 {
		t.Errorf("the denied account has %v left, want its key and certificate", left)
	}
}
