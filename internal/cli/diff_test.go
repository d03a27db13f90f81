package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

func TestDiffCommand(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	dir := t.TempDir()
	old, cur := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.ndjson")
	// The old report lacks an account with root keys: it is new in the
	// new one. The new one comes from S3 as well, to read both kinds.
	if res := s.run(t, "scan", "-q", "--out", old, "--exclude-accounts", "520384716293"); res.code != exitOK {
		t.Fatalf("old scan: %d %s", res.code, res.stderr)
	}
	if res := s.run(t, "scan", "-q", "--out", cur, "--out", "s3://orgscan-reports/diff/new.ndjson"); res.code != exitOK {
		t.Fatalf("new scan: %d %s", res.code, res.stderr)
	}
	notReport := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notReport, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	futureReport := filepath.Join(dir, "future.json")
	if err := os.WriteFile(futureReport, []byte(`{"schema_version":"9","scan":{},"accounts":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		want     int
		contains string
	}{
		{"a new finding fails by default", []string{old, cur}, exitFindings, "520384716293"},
		{"--fail-on none never fails", []string{"--fail-on", "none", old, cur}, exitOK, "520384716293"},
		{"a report against itself is an empty diff", []string{old, old}, exitOK, ""},
		{"any change fails with --fail-on any-change", []string{"--fail-on", "any-change", cur, old}, exitFindings, ""},
		{"an s3 source is read through the simulator", []string{"-f", "json", old, "s3://orgscan-reports/diff/new.ndjson"}, exitFindings, `"schema_version"`},
		{"markdown output", []string{"-f", "markdown", old, cur}, exitFindings, "|"},
		{"a file that is not a report is bad input", []string{notReport, cur}, exitUsage, ""},
		{"an unknown schema version is refused", []string{futureReport, cur}, exitUsage, ""},
		{"a missing file is bad input", []string{filepath.Join(dir, "nope.json"), cur}, exitUsage, ""},
		{"an object S3 cannot give is a read failure, not bad input", []string{"s3://missing-bucket/x.json", cur}, exitFatal, ""},
		{"one report is not enough", []string{old}, exitUsage, ""},
		{"an unknown format", []string{"-f", "xml", old, cur}, exitUsage, ""},
		{"an unknown --fail-on", []string{"--fail-on", "sometimes", old, cur}, exitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := s.run(t, append([]string{"diff"}, tc.args...)...)
			if res.code != tc.want {
				t.Fatalf("exit %d, want %d; stderr %s", res.code, tc.want, res.stderr)
			}
			if !strings.Contains(res.stdout, tc.contains) {
				t.Errorf("stdout lacks %q:\n%s", tc.contains, res.stdout)
			}
			if tc.want == exitUsage && strings.Count(strings.TrimSpace(res.stderr), "\n") > 0 {
				t.Errorf("usage errors are one line: %q", res.stderr)
			}
		})
	}

	t.Run("the JSON diff carries both provenances", func(t *testing.T) {
		res := s.run(t, "diff", "-f", "json", old, cur)
		var d map[string]any
		if err := json.Unmarshal([]byte(res.stdout), &d); err != nil {
			t.Fatalf("diff JSON: %v", err)
		}
		if _, ok := d["old"]; !ok {
			t.Errorf("no old side in %v", d)
		}
	})
}
