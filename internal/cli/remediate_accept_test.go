package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// binary runs the built orgscan against a simulator; the simulator runs in
// the test's process, orgscan in its own, as it runs against AWS.
type binary struct {
	path string
	env  []string
}

func (b binary) run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(b.path, args...)
	cmd.Env = b.env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run orgscan %v: %v", args, err)
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// scanFindings reads a scan report's findings by account.
func scanFindings(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Accounts []struct {
			AccountID string   `json:"account_id"`
			Status    string   `json:"status"`
			Findings  []string `json:"findings"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("%s is not a scan report: %v", path, err)
	}
	out := map[string][]string{}
	for _, a := range rep.Accounts {
		out[a.AccountID] = a.Findings
	}
	return out
}

// TestRemediateAcceptance is issue #16's acceptance run, with the built
// binary against the demo world: scan, plan (no mutating call), apply,
// scan again (no root key or certificate left on a member account but the
// one held for recent use), and a diff that lists what was resolved.
func TestRemediateAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	fx := demoWorld(t)
	// The held key was used within 90 days of today, whatever day the test
	// runs on (the world's own date is fixed).
	recent := time.Now().UTC().Add(-72 * time.Hour)
	for i := range fx.Accounts {
		if fx.Accounts[i].ID == demoHeldKey[0] {
			fx.Accounts[i].Root.AccessKeys[0].LastUsedAt = &recent
		}
	}
	s := startSim(t, fx, awssim.Options{Now: time.Now})
	b := binary{path: buildOrgscan(t), env: binaryEnv(t, s)}
	dir := t.TempDir()
	before, after := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")
	planPath, evidencePath := filepath.Join(dir, "plan.json"), filepath.Join(dir, "evidence.json")

	if res := b.run(t, "scan", "-q", "--out", before); res.code != exitOK {
		t.Fatalf("scan: exit %d: %s", res.code, res.stderr)
	}

	t.Run("without a terminal and without --yes, apply exits 2 before any request", func(t *testing.T) {
		requests := s.requests()
		res := b.run(t, "remediate", "--apply")
		if res.code != exitUsage || !strings.Contains(res.stderr, "--yes") {
			t.Errorf("exit %d, stderr %q: want 2 and the advice to add --yes", res.code, res.stderr)
		}
		if n := s.requests() - requests; n != 0 {
			t.Errorf("the simulator saw %d requests (sts:AssumeRoot %d in all)", n, s.rootSessions())
		}
	})

	mutations := s.mutations()
	if res := b.run(t, "remediate", "-q", "--out", planPath); res.code != exitOK {
		t.Fatalf("remediate (plan): exit %d: %s", res.code, res.stderr)
	}
	if n := s.mutations() - mutations; n != 0 {
		t.Fatalf("the plan made %d mutating calls, want 0", n)
	}

	res := b.run(t, "remediate", "-q", "--apply", "--yes", "--out", evidencePath)
	if res.code != exitOK {
		t.Fatalf("remediate --apply --yes: exit %d: %s", res.code, res.stderr)
	}
	ev := readRemediationFile(t, evidencePath)
	if !mapsEqual(deletedIDs(ev), sortedDemoDeletions()) {
		t.Errorf("the evidence lists deletions %v, want %v", deletedIDs(ev), sortedDemoDeletions())
	}

	if res := b.run(t, "scan", "-q", "--out", after); res.code != exitOK {
		t.Fatalf("scan after: exit %d: %s", res.code, res.stderr)
	}
	findings := scanFindings(t, after)
	for id, fs := range findings {
		if id == fx.Organization.ManagementAccountID {
			continue
		}
		held := id == demoHeldKey[0]
		if slices.Contains(fs, "root-access-key") != held {
			t.Errorf("account %s has findings %v after the apply; root-access-key is only for the held key's account", id, fs)
		}
		if slices.Contains(fs, "root-signing-certificate") {
			t.Errorf("account %s still has a root signing certificate: %v", id, fs)
		}
	}

	res = b.run(t, "diff", before, after, "-f", "json")
	if res.code != exitOK {
		t.Fatalf("diff: exit %d: %s", res.code, res.stderr)
	}
	var d struct {
		Changes []struct {
			AccountID        string   `json:"account_id"`
			FindingsResolved []string `json:"findings_resolved"`
		} `json:"changes"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &d); err != nil {
		t.Fatalf("diff -f json: %v\n%.300s", err, res.stdout)
	}
	resolved := map[string][]string{}
	for _, c := range d.Changes {
		resolved[c.AccountID] = c.FindingsResolved
	}
	for id, ids := range demoDeletions {
		for _, cred := range ids {
			want := "root-signing-certificate"
			if strings.HasPrefix(cred, "AKIA") {
				want = "root-access-key"
			}
			if !slices.Contains(resolved[id], want) {
				t.Errorf("the diff resolves %v for %s, without %s", resolved[id], id, want)
			}
		}
	}
	if _, ok := resolved[demoHeldKey[0]]; ok && slices.Contains(resolved[demoHeldKey[0]], "root-access-key") {
		t.Errorf("the diff resolves the held key's finding in %s", demoHeldKey[0])
	}
}

// TestRemediateInterruptedApplyRecordsExactlyWhatWasDeleted sends SIGINT
// to the binary while it deletes: it exits 130, and its evidence lists
// exactly the credentials the simulator's world has lost, no more and no
// fewer, with the accounts not begun marked not_started.
func TestRemediateInterruptedApplyRecordsExactlyWhatWasDeleted(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 16, Accounts: 60, OUDepth: 1, OUWidth: 3, RootKeys: 1, RootCerts: 0.5})
	original := map[string][]string{}
	for _, a := range fx.Accounts {
		for _, k := range a.Root.AccessKeys {
			original[a.ID] = append(original[a.ID], k.ID)
		}
		for _, c := range a.Root.SigningCertificates {
			original[a.ID] = append(original[a.ID], c.ID)
		}
	}
	s := startSim(t, fx, awssim.Options{Latency: 25 * time.Millisecond, Now: time.Now})
	b := binary{path: buildOrgscan(t), env: binaryEnv(t, s)}
	dir := t.TempDir()
	planPath, evidencePath := filepath.Join(dir, "plan.json"), filepath.Join(dir, "evidence.json")
	if res := b.run(t, "remediate", "-q", "--include-recently-used", "--concurrency", "30", "--out", planPath); res.code != exitOK {
		t.Fatalf("plan: exit %d: %s", res.code, res.stderr)
	}

	cmd := exec.Command(b.path, "remediate", "-q", "--apply", "--yes", "--plan", planPath, "--concurrency", "2",
		"-f", "ndjson", "--out", "-", "--out", evidencePath)
	cmd.Env = b.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	// Accounts with deletions stream as they finish; a few of them done,
	// the others are in flight or not begun.
	remediated := 0
	for remediated < 3 && lines.Scan() {
		if strings.Contains(lines.Text(), `"status":"`+remediate.StatusRemediated+`"`) {
			remediated++
		}
	}
	if remediated < 3 {
		t.Fatalf("the apply streamed %d remediated accounts before ending; stderr:\n%s", remediated, stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
	}
	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
		t.Fatalf("exit = %v, want status 130; stderr:\n%s", err, stderr.String())
	}

	ev := readRemediationFile(t, evidencePath)
	if !ev.Remediation.Interrupted || ev.Remediation.Complete {
		t.Errorf("the evidence is not marked interrupted and incomplete: %+v", ev.Remediation)
	}
	gone := map[string][]string{}
	for id, ids := range original {
		left := s.rootCredentialIDs(id)
		for _, cred := range ids {
			if !slices.Contains(left, cred) {
				gone[id] = append(gone[id], cred)
			}
		}
		slices.Sort(gone[id])
		if len(gone[id]) == 0 {
			delete(gone, id)
		}
	}
	if len(gone) == 0 {
		t.Fatal("the simulator deleted nothing before the interrupt: the test proves nothing")
	}
	if got := deletedIDs(ev); !mapsEqual(got, gone) {
		t.Errorf("the evidence says it deleted %v; the simulator lost %v", got, gone)
	}
	notStarted := 0
	for _, a := range ev.Accounts {
		if a.Status == remediate.StatusNotStarted {
			notStarted++
			if len(gone[a.AccountID]) > 0 {
				t.Errorf("account %s is not_started, yet lost %v", a.AccountID, gone[a.AccountID])
			}
		}
	}
	if notStarted == 0 {
		t.Error("no account is not_started: the interrupt came after the end")
	}
	t.Logf("interrupted after %d accounts lost credentials; %d accounts not started", len(gone), notStarted)
}
