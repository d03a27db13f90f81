package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bashCompletionLib is the bash-completion package's library, which
// cobra's bash script needs, where Debian and Homebrew's bash put it.
var bashCompletionLib = []string{"/usr/share/bash-completion/bash_completion", "/opt/homebrew/etc/profile.d/bash_completion.sh"}

// TestCompletionInRealShells installs `orgscan completion` in bash and fish,
// as a user would, and completes command lines there: the script, the
// binary's __complete command and the flag definitions together. A shell
// that is not installed is skipped.
func TestCompletionInRealShells(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "orgscan"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	path := dir + string(os.PathListSeparator) + os.Getenv("PATH")
	lines := []struct {
		line string
		want []string
	}{
		{"orgscan scan --access ", []string{"assume-role", "assume-root", "auto"}},
		{"orgscan sc", []string{"scan"}},
		{"orgscan diff a.json b.json -f ", []string{"json", "markdown", "table"}},
		{"orgscan scan --fail-sev", []string{"--fail-severity"}},
	}
	shells := []struct {
		name   string
		script func(line string) (string, bool) // the program, false when the shell cannot run it here
	}{
		{"bash", func(line string) (string, bool) {
			lib := slices.IndexFunc(bashCompletionLib, func(p string) bool { _, err := os.Stat(p); return err == nil })
			if lib < 0 {
				return "", false
			}
			// COMP_* as bash sets them for a completion at the end of line.
			return fmt.Sprintf(`source %q
source <(orgscan completion bash)
COMP_LINE=%q
COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
__start_orgscan orgscan "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%%s\n' "${COMPREPLY[@]}"
`, bashCompletionLib[lib], line), true
		}},
		{"fish", func(line string) (string, bool) {
			return fmt.Sprintf("orgscan completion fish | source\ncomplete --do-complete %q\n", line), true
		}},
	}
	for _, sh := range shells {
		if _, err := exec.LookPath(sh.name); err != nil {
			t.Run(sh.name, func(t *testing.T) { t.Skipf("%s is not installed", sh.name) })
			continue
		}
		for _, tt := range lines {
			t.Run(fmt.Sprintf("%s completes %q", sh.name, tt.line), func(t *testing.T) {
				script, ok := sh.script(tt.line)
				if !ok {
					t.Skipf("%s has no completion library here", sh.name)
				}
				cmd := exec.Command(sh.name, "-c", script)
				cmd.Env = append(os.Environ(), "PATH="+path)
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s: %v\n%s", sh.name, err, out)
				}
				var got []string
				for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
					// fish prints "candidate<TAB>description".
					name, _, _ := strings.Cut(l, "\t")
					got = append(got, strings.TrimSpace(name))
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("%s offers %q, want %q", sh.name, got, tt.want)
				}
			})
		}
	}
}
