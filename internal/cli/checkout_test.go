package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHeadCommitResolvesHEADAsGitWritesIt(t *testing.T) {
	const (
		id1 = "0123456789abcdef0123456789abcdef01234567"
		id2 = "89abcdef0123456789abcdef0123456789abcdef"
	)
	tests := []struct {
		name   string
		files  map[string]string
		want   string
		wantOK bool
	}{
		{"a detached HEAD", map[string]string{"HEAD": id1 + "\n"}, id1, true},
		{"a branch with a loose ref", map[string]string{"HEAD": "ref: refs/heads/main\n", "refs/heads/main": id2 + "\n"}, id2, true},
		{"a branch with a packed ref", map[string]string{"HEAD": "ref: refs/heads/main\n",
			"packed-refs": "# pack-refs with: peeled fully-peeled sorted\n" + id1 + " refs/heads/other\n" + id2 + " refs/heads/main\n"}, id2, true},
		{"a ref that leaves the git directory", map[string]string{"HEAD": "ref: refs/../../outside\n"}, "", false},
		{"a ref that is not under refs/", map[string]string{"HEAD": "ref: HEAD\n"}, "", false},
		{"a HEAD that is not an object name", map[string]string{"HEAD": "$(touch /tmp/x)\n"}, "", false},
		{"no HEAD", map[string]string{}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				path := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, ok := headCommit(dir)
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("headCommit = %q, %v; want %q, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

// A test binary, like `go run`, is built without -trimpath and records no
// commit: the commit then comes from the checkout, and is the checkout's.
func TestAnUnstampedBuildNamesTheCheckoutsCommit(t *testing.T) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	b := readBuildInfo()
	if b.CommitSource == commitFromBuild {
		t.Skip("this test binary recorded its commit")
	}
	want := strings.TrimSpace(string(out))
	if b.Commit == nil || *b.Commit != want || b.CommitSource != commitFromCheckout || !strings.Contains(b.Report, want[:12]) {
		t.Errorf("commit %v from %q, report version %q; want %s from the checkout", b.Commit, b.CommitSource, b.Report, want)
	}
}
