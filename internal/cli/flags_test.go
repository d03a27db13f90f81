package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/orgscan/orgscan/internal/awssim"
)

// parseArgs runs a command's parsing and validation only: runF receives the
// options, and nothing runs.
func parseArgs[T any](t *testing.T, newCmd func(*runEnv, func(*T) error) *cobra.Command, args ...string) (*T, error) {
	t.Helper()
	st, _, _ := Test()
	var got *T
	cmd := newCmd(&runEnv{streams: st}, func(o *T) error { got = o; return nil })
	cmd.SetArgs(append([]string{}, args...))
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	if err := cmd.Execute(); err != nil {
		return nil, err
	}
	if got == nil {
		t.Fatalf("%v: the command ended without handing over its options", args)
	}
	return got, nil
}

func TestScanFlagsParseAsPeopleTypeThem(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(o *scanOptions) bool
	}{
		{"--flag=value sets the value", []string{"--format=json", "--concurrency=8"},
			func(o *scanOptions) bool { return o.Format == "json" && o.Concurrency == 8 && o.formatSet }},
		{"--flag value sets the value", []string{"--format", "json", "--concurrency", "8"},
			func(o *scanOptions) bool { return o.Format == "json" && o.Concurrency == 8 }},
		{"a short flag takes its value after = too", []string{"-f=csv"},
			func(o *scanOptions) bool { return o.Format == "csv" }},
		{"no flag keeps every default", nil,
			func(o *scanOptions) bool {
				return o.Access == "auto" && o.RoleName == defaultRoleName && o.Duration == 15*time.Minute &&
					o.Concurrency == defaultConcurrency && o.AccountTimeout == 2*time.Minute && o.RecentDays == 90 &&
					o.MaxAgeDays == 365 && o.Format == "table" && !o.formatSet && o.SSE == "AES256" &&
					o.FailSeverity == "low" && o.LogFormat == "text" && !o.Quiet && !o.Details
			}},
		{"a repeated list flag collects every value and comma list", []string{"--ou", "ou-ab12-abcdefgh", "--ou=ou-ab12-bcdefghi,r-ab12"},
			func(o *scanOptions) bool {
				return slices.Equal(o.OUs, []string{"ou-ab12-abcdefgh", "ou-ab12-bcdefghi", "r-ab12"})
			}},
		{"-o and --out add targets in order", []string{"-o", "s3://bucket/a/", "--out=s3://bucket/b.json"},
			func(o *scanOptions) bool {
				return slices.Equal(o.Outs, []string{"s3://bucket/a/", "s3://bucket/b.json"}) && len(o.targets) == 2
			}},
		{"-q and durations parse", []string{"-q", "--duration", "1h", "--account-timeout=30s"},
			func(o *scanOptions) bool {
				return o.Quiet && o.Duration == time.Hour && o.AccountTimeout == 30*time.Second
			}},
		{"--details=false is allowed and sets nothing", []string{"--details=false"},
			func(o *scanOptions) bool { return !o.Details }},
		{"the severity threshold is parsed", []string{"--fail-on-findings", "--fail-severity=high"},
			func(o *scanOptions) bool { return o.FailOnFindings && o.failAt == "high" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, newCmd := range []func(*runEnv, func(*scanOptions) error) *cobra.Command{newCmdScan, newCmdDemo} {
				o, err := parseArgs(t, newCmd, tt.args...)
				if err != nil {
					t.Fatalf("%v: %v", tt.args, err)
				}
				if !tt.check(o) {
					t.Errorf("%v parsed into %+v", tt.args, *o)
				}
			}
		})
	}
}

func TestDiffTakesFlagsAnywhereOnTheLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"flags after the reports", []string{"old.json", "new.json", "-f", "json", "--fail-on", "any-change"}},
		{"flags before the reports", []string{"-f", "json", "--fail-on", "any-change", "old.json", "new.json"}},
		{"flags between the reports, with =", []string{"old.json", "--format=json", "new.json", "--fail-on=any-change"}},
		{"a report named like a flag after --", []string{"-f", "json", "--fail-on", "any-change", "--", "old.json", "new.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseArgs(t, newCmdDiff, tt.args...)
			if err != nil {
				t.Fatalf("%v: %v", tt.args, err)
			}
			if o.Format != "json" || o.failOn != "any-change" || !slices.Equal(o.Sources, []string{"old.json", "new.json"}) {
				t.Errorf("%v parsed into %+v", tt.args, *o)
			}
		})
	}
}

// TestFlagsAnywhereEndToEnd runs the command lines of the acceptance: a
// diff with -f after the reports, and a scan with --flag=value.
func TestFlagsAnywhereEndToEnd(t *testing.T) {
	s := startSim(t, awssim.Generate(awssim.GenerateOptions{Seed: 3, Accounts: 6}), awssim.Options{})
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	if res := s.run(t, "scan", "-q", "--out", oldPath); res.code != exitOK {
		t.Fatalf("first scan: exit %d: %s", res.code, res.stderr)
	}

	res := s.run(t, "scan", "--format=json", "--concurrency=8", "-q")
	if res.code != exitOK {
		t.Fatalf("scan --format=json --concurrency=8: exit %d: %s", res.code, res.stderr)
	}
	var report struct {
		Scan struct {
			Options struct {
				Concurrency int `json:"concurrency"`
			} `json:"options"`
		} `json:"scan"`
		Accounts []json.RawMessage `json:"accounts"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("scan --format=json did not print JSON: %v\n%.300s", err, res.stdout)
	}
	if len(report.Accounts) != 6 || report.Scan.Options.Concurrency != 8 {
		t.Errorf("the report has %d accounts and concurrency %d, want 6 and 8", len(report.Accounts), report.Scan.Options.Concurrency)
	}
	if err := os.WriteFile(newPath, []byte(res.stdout), 0o600); err != nil {
		t.Fatal(err)
	}

	res = s.run(t, "diff", oldPath, newPath, "-f", "json")
	if res.code != exitOK {
		t.Fatalf("diff a.json b.json -f json: exit %d: %s", res.code, res.stderr)
	}
	var d map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &d); err != nil {
		t.Fatalf("diff -f json after the reports did not print JSON: %v\n%.300s", err, res.stdout)
	}
}

// TestUsageErrorsOfEveryCommand: bad input outside the scan flags is also
// one line naming the input, exit 2 (scan's own cases are in
// TestBadInputIsOneLineExitTwoBeforeAnyAWSCall).
func TestUsageErrorsOfEveryCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a flag value of the wrong type", []string{"scan", "--concurrency", "many"}, "many"},
		{"a flag without its value", []string{"scan", "--access"}, "--access"},
		{"an unknown short flag", []string{"scan", "-x"}, "-x"},
		{"a long flag with one dash", []string{"scan", "-quiet"}, "use --quiet"},
		{"a long flag with one dash and a value", []string{"diff", "-fail-on=none", "a", "b"}, "use --fail-on"},
		{"an unknown diff format after the reports", []string{"diff", "a.json", "b.json", "-f", "xml"}, "xml"},
		{"an unknown --fail-on", []string{"diff", "--fail-on", "sometimes", "a.json", "b.json"}, "sometimes"},
		{"a third report", []string{"diff", "a.json", "b.json", "c.json"}, "two reports"},
		{"an unknown version format", []string{"version", "-f", "yaml"}, "yaml"},
		{"an unknown shell", []string{"completion", "tcsh"}, "tcsh"},
		{"no shell", []string{"completion"}, "bash, zsh, fish or powershell"},
		{"an unknown command", []string{"scna"}, "scna"},
		{"help on an unknown command", []string{"help", "scna"}, "scna"},
		{"demo with a profile", []string{"demo", "--profile", "prod"}, "--profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out, errOut := Test()
			code := run(t.Context(), runEnv{streams: st, version: "test"}, tt.args)
			msg := strings.TrimSuffix(errOut.String(), "\n")
			if code != exitUsage || msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, tt.want) {
				t.Errorf("exit %d, stderr %q: want exit 2 and one line naming %q", code, errOut.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", out.String())
			}
		})
	}
}

func TestHelpCommandShowsACommandsHelp(t *testing.T) {
	for _, name := range []string{"scan", "remediate", "demo", "diff", "version", "completion"} {
		t.Run("help "+name+" is "+name+" --help", func(t *testing.T) {
			st, out, errOut := Test()
			if code := run(t.Context(), runEnv{streams: st, version: "test"}, []string{"help", name}); code != exitOK {
				t.Fatalf("help %s: exit %d: %s", name, code, errOut.String())
			}
			if want := helpOf(t, name); out.String() != want {
				t.Errorf("help %s printed\n%s\nwant\n%s", name, out.String(), want)
			}
		})
	}
}

func TestRootHelpAndUsage(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		toStdout bool
	}{
		{"no command prints the usage to stderr and exits 2", nil, exitUsage, false},
		{"help prints it to stdout", []string{"help"}, exitOK, true},
		{"--help prints it to stdout", []string{"--help"}, exitOK, true},
		{"-h prints it to stdout", []string{"-h"}, exitOK, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out, errOut := Test()
			code := run(t.Context(), runEnv{streams: st, version: "test"}, tt.args)
			got := errOut.String()
			if tt.toStdout {
				got = out.String()
			}
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d", code, tt.wantCode)
			}
			for _, want := range []string{"orgscan scan [flags]", "orgscan diff [flags] OLD NEW", "orgscan completion SHELL", "Exit status:"} {
				if !strings.Contains(got, want) {
					t.Errorf("usage does not name %q:\n%s", want, got)
				}
			}
		})
	}
}

// helpOf runs `orgscan args... --help`.
func helpOf(t *testing.T, args ...string) string {
	t.Helper()
	st, out, errOut := Test()
	if code := run(t.Context(), runEnv{streams: st, version: "test"}, append(args, "--help")); code != exitOK {
		t.Fatalf("%v --help: exit %d: %s", args, code, errOut.String())
	}
	return out.String()
}

// TestHelpComesFromTheFlagDefinitions: every flag is in its command's help
// once, with its short form, in a section, saying its default and its
// values; lines stay within helpWidth.
func TestHelpComesFromTheFlagDefinitions(t *testing.T) {
	st, _, _ := Test()
	env := &runEnv{streams: st}
	cmds := map[string]*cobra.Command{
		"scan": newCmdScan(env, nil), "demo": newCmdDemo(env, nil), "diff": newCmdDiff(env, nil), "version": newCmdVersion(env, nil),
		"remediate": newCmdRemediate(env, nil), "demo remediate": newCmdDemoRemediate(env, nil),
	}
	for name, cmd := range cmds {
		t.Run(name, func(t *testing.T) {
			help := helpOf(t, strings.Fields(name)...)
			for _, line := range strings.Split(help, "\n") {
				if len(line) > helpWidth {
					t.Errorf("help line longer than %d: %q", helpWidth, line)
				}
			}
			cmd.Flags().VisitAll(func(f *pflag.Flag) {
				if f.Name == "help" {
					return
				}
				if !isDocumented(f) {
					t.Errorf("--%s has no help section", f.Name)
					return
				}
				label := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(flagLabel(f)) + ` `)
				if n := len(label.FindAllString(help, -1)); n != 1 {
					t.Errorf("--%s (%q) is listed %d times in help, want once", f.Name, flagLabel(f), n)
				}
				if def := friendlyDefault(f); def != "" && !strings.Contains(f.Usage, "(default "+def) {
					t.Errorf("--%s defaults to %s but its help says %q", f.Name, def, f.Usage)
				}
				if values, _ := completeFlag(t, cmd, f.Name); len(values) > 0 {
					for _, v := range values {
						if !strings.Contains(f.Usage, v) {
							t.Errorf("--%s completes %s, which its help %q does not list", f.Name, v, f.Usage)
						}
					}
				}
			})
		})
	}
}

// friendlyDefault is a flag's default as help words it; "" for none.
func friendlyDefault(f *pflag.Flag) string {
	switch f.DefValue {
	case "", "false", "0", "[]":
		return ""
	}
	if d, err := time.ParseDuration(f.DefValue); err == nil && f.Value.Type() == "duration" {
		// time.Duration says 15m0s and 1h0m0s where help says 15m and 1h.
		s := d.String()
		if d%time.Minute == 0 {
			s = strings.TrimSuffix(s, "0s")
		}
		if d%time.Hour == 0 {
			s = strings.TrimSuffix(s, "0m")
		}
		return s
	}
	return f.DefValue
}

// completeFlag asks a command's completion function for a flag's values.
func completeFlag(t *testing.T, cmd *cobra.Command, name string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	fn, ok := cmd.GetFlagCompletionFunc(name)
	if !ok {
		t.Fatalf("--%s has no completion function", name)
	}
	return fn(cmd, nil, "")
}

// readmeHelpBlock matches a README block that shows a command's help:
// a marker comment naming the command line, then a fenced block.
var readmeHelpBlock = regexp.MustCompile("(?s)<!-- (orgscan [a-z ]+ --help) -->\n```\n(.*?)```\n")

// TestREADMEFlagsEqualHelp: the README's flag blocks are what --help
// prints. With -update, it rewrites them.
func TestREADMEFlagsEqualHelp(t *testing.T) {
	path := filepath.Join("..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeHelpBlock.FindAllSubmatchIndex(data, -1)
	var seen []string
	var updated []byte
	last := 0
	for _, m := range blocks {
		line := string(data[m[2]:m[3]])
		seen = append(seen, line)
		args := strings.Fields(line)[1:]
		want := helpOf(t, args[:len(args)-1]...)
		if got := string(data[m[4]:m[5]]); got != want && !*update {
			t.Errorf("README's block for %q differs from the help (go test ./internal/cli -run TestREADMEFlagsEqualHelp -update rewrites it)\nREADME:\n%s\nhelp:\n%s", line, got, want)
		}
		updated = append(append(updated, data[last:m[4]]...), want...)
		last = m[5]
	}
	for _, want := range []string{"orgscan scan --help", "orgscan remediate --help", "orgscan diff --help"} {
		if !slices.Contains(seen, want) {
			t.Errorf("README shows no block for %q (found %q)", want, seen)
		}
	}
	if *update {
		updated = append(updated, data[last:]...)
		if err := os.WriteFile(path, updated, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
