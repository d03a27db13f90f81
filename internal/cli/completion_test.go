package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// complete asks orgscan what to offer for the last word of line, as the
// generated scripts do (the hidden __complete command), and returns the
// candidates without descriptions and the directive line.
func complete(t *testing.T, line ...string) ([]string, string) {
	t.Helper()
	st, out, errOut := Test()
	if code := run(t.Context(), runEnv{streams: st, version: "test"}, append([]string{"__complete"}, line...)); code != exitOK {
		t.Fatalf("__complete %q: exit %d: %s", line, code, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var got []string
	for _, l := range lines[:len(lines)-1] {
		name, _, _ := strings.Cut(l, "\t")
		got = append(got, name)
	}
	return got, lines[len(lines)-1]
}

func TestCompletionOffersSubcommandsFlagsAndValues(t *testing.T) {
	const noFiles, files = ":4", ":0" // cobra's NoFileComp and Default directives
	tests := []struct {
		name      string
		line      []string
		want      []string
		directive string
	}{
		{"scan --access offers the three methods", []string{"scan", "--access", ""}, []string{"assume-role", "assume-root", "auto"}, noFiles},
		{"demo --access offers them too", []string{"demo", "--access", ""}, []string{"assume-role", "assume-root", "auto"}, noFiles},
		{"scan -f offers the output formats", []string{"scan", "-f", ""}, []string{"table", "csv", "json", "ndjson", "html", "ocsf", "ocsf-ndjson"}, noFiles},
		{"scan --format= offers them after =", []string{"scan", "--format="}, []string{"table", "csv", "json", "ndjson", "html", "ocsf", "ocsf-ndjson"}, noFiles},
		{"scan --fail-severity offers the severities", []string{"scan", "--fail-severity", ""}, []string{"critical", "high", "medium", "low", "informational"}, noFiles},
		{"scan --log-format offers text and json", []string{"scan", "--log-format", ""}, []string{"text", "json"}, noFiles},
		{"scan --sse offers the algorithms", []string{"scan", "--sse", ""}, []string{"AES256", "aws:kms"}, noFiles},
		{"diff -f offers the diff formats", []string{"diff", "-f", ""}, []string{"table", "json", "markdown"}, noFiles},
		{"diff --fail-on offers the conditions", []string{"diff", "--fail-on", ""}, []string{"new-findings", "any-change", "none"}, noFiles},
		{"version -f offers text and json", []string{"version", "-f", ""}, []string{"text", "json"}, noFiles},
		{"completion offers the shells", []string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}, noFiles},
		{"a flag prefix offers the matching flags", []string{"scan", "--acc"}, []string{"--access", "--accounts", "--accounts-file", "--account-timeout"}, noFiles},
		{"a repeatable flag is offered again", []string{"scan", "--out", "a.json", "--ou", "r-ab12", "--ou"}, []string{"--ou", "--out"}, noFiles},
		{"a flag given once is not", []string{"scan", "--access", "auto", "--acc"}, []string{"--accounts", "--accounts-file", "--account-timeout"}, noFiles},
		{"a free-text flag offers no file names", []string{"scan", "--role-name", ""}, nil, noFiles},
		{"--accounts-file offers file names", []string{"scan", "--accounts-file", ""}, nil, files},
		{"diff's reports are file names", []string{"diff", "-f", "json", ""}, nil, files},
		{"a scan argument offers nothing", []string{"scan", ""}, nil, noFiles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, directive := complete(t, tt.line...)
			if !slices.Equal(got, tt.want) || directive != tt.directive {
				t.Errorf("completing %q offers %q (%s), want %q (%s)", tt.line, got, directive, tt.want, tt.directive)
			}
		})
	}
	t.Run("the first word offers every command", func(t *testing.T) {
		got, _ := complete(t, "")
		for _, want := range []string{"scan", "demo", "diff", "version", "completion"} {
			if !slices.Contains(got, want) {
				t.Errorf("completing the command offers %q, without %q", got, want)
			}
		}
	})
}

// TestCompletionScriptsAreValid checks each script with its own shell's
// syntax check, where that shell is installed: bash is everywhere the
// tests run; zsh and fish are skipped when absent.
func TestCompletionScriptsAreValid(t *testing.T) {
	tests := []struct {
		shell string
		check []string // the syntax-only command, the script's path appended
	}{
		{"bash", []string{"bash", "-n"}},
		{"zsh", []string{"zsh", "-n"}},
		{"fish", []string{"fish", "--no-execute"}},
	}
	for _, tt := range tests {
		t.Run(tt.shell+" parses its script", func(t *testing.T) {
			st, out, errOut := Test()
			if code := run(t.Context(), runEnv{streams: st, version: "test"}, []string{"completion", tt.shell}); code != exitOK {
				t.Fatalf("completion %s: exit %d: %s", tt.shell, code, errOut.String())
			}
			script := out.String()
			if !strings.Contains(script, "__complete") || !strings.Contains(script, "orgscan") {
				t.Fatalf("the %s script does not ask orgscan __complete:\n%.400s", tt.shell, script)
			}
			if _, err := exec.LookPath(tt.check[0]); err != nil {
				if tt.shell == "bash" {
					t.Fatalf("bash is not installed: %v", err)
				}
				t.Skipf("%s is not installed here; only its script's generation is checked", tt.shell)
			}
			path := filepath.Join(t.TempDir(), "orgscan."+tt.shell)
			if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(tt.check[0], append(tt.check[1:], path)...).CombinedOutput(); err != nil {
				t.Errorf("%s rejects the script: %v\n%s", tt.shell, err, out)
			}
		})
	}
}
