package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/schema/schematest"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fixedNow is the clock of every CLI test, so reports are byte-stable.
var fixedNow = time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)

// sim runs a simulator for one test.
type sim struct {
	srv         *awssim.Server
	fx          *awssim.Fixture
	fallbackDir string
	now         func() time.Time // the CLI's clock; fixedNow when nil
}

func startSim(t *testing.T, fx *awssim.Fixture, opts awssim.Options) *sim {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Fixture = fx
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	srv, err := awssim.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return &sim{srv: srv, fx: fx, fallbackDir: t.TempDir()}
}

func demoWorld(t *testing.T) *awssim.Fixture {
	t.Helper()
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatalf("demo world: %v", err)
	}
	return fx
}

// result is one CLI run.
type result struct {
	code           int
	stdout, stderr string
}

// runAs runs orgscan against the simulator with the given credential.
func (s *sim) runAs(t *testing.T, cred awssim.StaticCredential, args ...string) result {
	t.Helper()
	return s.runAt(t, cred, s.srv.URL(), args...)
}

// runAt runs orgscan with the given credential against endpoint, which may
// be a proxy in front of the simulator.
func (s *sim) runAt(t *testing.T, cred awssim.StaticCredential, endpoint string, args ...string) result {
	t.Helper()
	st, out, errOut := Test()
	env := runEnv{
		streams:     st,
		now:         func() time.Time { return fixedNow },
		version:     "test",
		credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		fallbackDir: s.fallbackDir,
	}
	if s.now != nil {
		env.now = s.now
	}
	if len(args) > 0 && (args[0] == "scan" || args[0] == "diff") {
		args = append([]string{args[0], "--endpoint-url", endpoint, "--region", "us-east-1"}, args[1:]...)
	}
	code := run(context.Background(), env, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// run runs orgscan as the management account's administrator.
func (s *sim) run(t *testing.T, args ...string) result {
	t.Helper()
	cred, err := s.fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	return s.runAs(t, cred, args...)
}

func (s *sim) requests() int64 { return s.srv.Stats().Total("").Requests }

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./internal/cli -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gotLines), len(wantLines)) {
			if gotLines[i] != wantLines[i] {
				t.Errorf("%s differs from the golden file at line %d; rerun with -update and review the diff\ngot:  %.300s\nwant: %.300s", name, i+1, gotLines[i], wantLines[i])
				return
			}
		}
		t.Errorf("%s differs from the golden file in length (%d lines, want %d); rerun with -update", name, len(gotLines), len(wantLines))
	}
}

func TestDemoWorldInEveryFormatMatchesGoldenFiles(t *testing.T) {
	for _, tc := range []struct {
		format string
		args   []string
	}{
		{"table", nil},
		{"csv", nil},
		{"json", nil},
		{"ndjson", nil},
		{"ocsf", nil},
		{"json", []string{"--access", "assume-role"}},
		{"table", []string{"--details"}},
		{"csv", []string{"--details"}},
		{"json", []string{"--details"}},
		{"json", []string{"--details", "--access", "assume-role"}},
	} {
		name := "demo-" + tc.format + strings.Join(tc.args, "") + "." + tc.format
		t.Run(name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			args := append([]string{"scan", "-q", "--concurrency", "1", "-f", tc.format}, tc.args...)
			res := s.run(t, args...)
			if res.code != exitOK && res.code != exitIncomplete {
				t.Fatalf("exit %d, stderr: %s", res.code, res.stderr)
			}
			out := res.stdout
			if tc.format == "ndjson" {
				// NDJSON streams rows as accounts complete: its order is
				// the scan's, so compare the set of lines.
				lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
				slices.Sort(lines)
				out = strings.Join(lines, "\n") + "\n"
			}
			golden(t, name, []byte(out))
		})
	}
}

func TestExitCodes(t *testing.T) {
	clean := awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 5})
	dirty := awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 5, RootKeys: 1})
	missing := awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 5, MissingRole: 0.5, NoCentralRootAccess: true})
	tests := []struct {
		name string
		fx   *awssim.Fixture
		args []string
		want int
	}{
		{"a clean organization exits 0", clean, nil, exitOK},
		{"findings without --fail-on-findings exit 0", dirty, nil, exitOK},
		{"findings with --fail-on-findings exit 4", dirty, []string{"--fail-on-findings"}, exitFindings},
		{"an account that cannot be scanned exits 3", missing, []string{"--access", "assume-role"}, exitIncomplete},
		{"bad input exits 2", clean, []string{"--concurrency", "0"}, exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, tc.fx, awssim.Options{})
			res := s.run(t, append([]string{"scan", "-q", "-f", "json"}, tc.args...)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d; stderr: %s", res.code, tc.want, res.stderr)
			}
		})
	}
}

func TestEnvironmentProblemsExitOneWithAClearMessage(t *testing.T) {
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 2, Accounts: 4})
	outsider := awssim.StaticCredential{AccessKeyID: "AKIAOUTSIDE000000001", SecretAccessKey: "outside/secret/0000000000000000000000000", AccountID: "999999999999", UserName: "outsider"}
	memberID := fx.Accounts[1].ID
	member := awssim.StaticCredential{AccessKeyID: "AKIAMEMBER0000000001", SecretAccessKey: "member/secret/00000000000000000000000000", AccountID: memberID, UserName: "dev"}
	fx.Credentials = append(fx.Credentials, outsider, member)
	s := startSim(t, fx, awssim.Options{})
	tests := []struct {
		name string
		cred awssim.StaticCredential
		want string
	}{
		{"a caller outside any organization", outsider, "is not in an AWS Organization"},
		{"a member account that is not a delegated administrator", member, "management account or a delegated administrator"},
		{"credentials the endpoint does not know", awssim.StaticCredential{AccessKeyID: "AKIANOSUCH0000000001", SecretAccessKey: "x"}, "access key is not valid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.runAs(t, tc.cred, "scan", "-q")
			if res.code != exitFatal {
				t.Fatalf("exit %d, want 1; stderr: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr %q does not say %q", res.stderr, tc.want)
			}
			if res.stdout != "" {
				t.Errorf("stdout is not empty: %q", res.stdout)
			}
		})
	}
}

func TestJSONReportAccountsForEveryAccount(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	res := s.run(t, "scan", "-q", "-f", "json", "--access", "assume-role")
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Scan          struct {
			Complete bool           `json:"complete"`
			Counts   map[string]int `json:"counts"`
		} `json:"scan"`
		Accounts []map[string]any `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &doc); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if len(doc.Accounts) != len(s.fx.Accounts) {
		t.Fatalf("%d rows for %d accounts", len(doc.Accounts), len(s.fx.Accounts))
	}
	c := doc.Scan.Counts
	if c["scanned"]+c["skipped"]+c["errors"]+c["not_scanned"] != c["listed"] || c["listed"] != len(doc.Accounts) {
		t.Errorf("counts do not add up: %v", c)
	}
	if doc.Scan.Complete || res.code != exitIncomplete {
		t.Errorf("a scan with an error row must be incomplete and exit 3 (complete=%v, exit %d)", doc.Scan.Complete, res.code)
	}
}

func TestJSONOutputValidatesAgainstThePublishedSchema(t *testing.T) {
	schemas := schematest.Compile(t)
	for _, args := range [][]string{
		{"-f", "json"},
		{"-f", "json", "--details"},
		{"-f", "json", "--details", "--access", "assume-role"},
		{"-f", "json", "--access", "assume-role", "--include-inactive"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			res := s.run(t, append([]string{"scan", "-q"}, args...)...)
			if err := schematest.Validate(t, schemas.Report, []byte(res.stdout)); err != nil {
				t.Fatalf("report does not validate: %v", err)
			}
		})
	}
	t.Run("every NDJSON line validates against the row schema", func(t *testing.T) {
		s := startSim(t, demoWorld(t), awssim.Options{})
		res := s.run(t, "scan", "-q", "-f", "ndjson", "--details")
		for i, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			if err := schematest.Validate(t, schemas.Row, []byte(line)); err != nil {
				t.Fatalf("line %d does not validate: %v", i+1, err)
			}
		}
	})
}

func TestDebugTraceRedactsSecrets(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	cred, _ := s.fx.ManagementCredential()
	// One upload that lands, for the object metadata S3 keeps, and one
	// that fails, for the local fallback file.
	res := s.run(t, "scan", "--debug", "-f", "json", "--access", "assume-role", "--details",
		"--out", "s3://orgscan-reports/secrets/r.json", "--out", "s3://no-such-bucket-here/r.json")
	if res.code != exitFatal || !strings.Contains(res.stderr, "the report is saved in") {
		t.Fatalf("exit %d, want 1 with a fallback file for the failed upload:\n%.2000s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "aws> STS.GetCallerIdentity") || !strings.Contains(res.stderr, `Authorization="REDACTED"`) {
		t.Fatalf("no redacted request trace on stderr:\n%.2000s", res.stderr)
	}
	if !strings.Contains(res.stderr, `X-Amz-Security-Token="REDACTED"`) {
		t.Errorf("assumed-role requests carry a security token; it must show as REDACTED")
	}
	places := map[string]string{"stderr": res.stderr, "stdout": res.stdout}
	fallbacks, _ := filepath.Glob(filepath.Join(s.fallbackDir, "orgscan-fallback-*"))
	if len(fallbacks) != 1 {
		t.Fatalf("fallback files %v, want one", fallbacks)
	}
	data, err := os.ReadFile(fallbacks[0])
	if err != nil {
		t.Fatal(err)
	}
	places["the fallback file"] = string(data)
	obj, ok := s.srv.Object(reportBucket, "secrets/r.json")
	if !ok {
		t.Fatal("the upload did not land")
	}
	var meta strings.Builder
	for k, vs := range obj.Header {
		if strings.HasPrefix(strings.ToLower(k), "x-amz-meta-") {
			fmt.Fprintf(&meta, "%s: %s\n", k, strings.Join(vs, ","))
		}
	}
	if meta.Len() == 0 {
		t.Fatal("the object holds no metadata to check")
	}
	places["the S3 object metadata"] = meta.String()
	places["the S3 object"] = string(obj.Body)
	for where, text := range places {
		for _, secret := range []string{cred.SecretAccessKey, "AWS4-HMAC-SHA256", "Signature=", "IQoJb3JpZ2lu", "SecretAccessKey"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains %q", where, secret)
			}
		}
	}
}
