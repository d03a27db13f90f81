package cli

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// checkoutCommit finds the commit of the git checkout this binary was
// compiled from, for builds that recorded none: `go run` never stamps
// version control information. Only a build without -trimpath knows its
// source directory (release builds trim it and record the commit instead),
// and the answer is read at run time, so it says what the checkout is at
// now, not what was compiled; the caller labels it so.
func checkoutCommit() (string, bool) {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return "", false
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if info, err := os.Stat(filepath.Join(dir, ".git")); err == nil && info.IsDir() {
			return headCommit(filepath.Join(dir, ".git"))
		}
		if parent := filepath.Dir(dir); parent == dir {
			return "", false
		}
	}
}

// headCommit resolves HEAD in a git directory: a detached commit, a loose
// ref, or a packed one.
func headCommit(gitDir string) (string, bool) {
	head, ok := readSmall(filepath.Join(gitDir, "HEAD"))
	if !ok {
		return "", false
	}
	ref, isRef := strings.CutPrefix(head, "ref: ")
	if !isRef {
		return commitID(head)
	}
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") {
		return "", false
	}
	if id, ok := readSmall(filepath.Join(gitDir, filepath.FromSlash(ref))); ok {
		return commitID(id)
	}
	f, err := os.Open(filepath.Join(gitDir, "packed-refs"))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if id, name, ok := strings.Cut(sc.Text(), " "); ok && name == ref {
			return commitID(id)
		}
	}
	return "", false
}

// readSmall reads a one-line file of git's, trimmed.
func readSmall(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 512))
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// commitID accepts a full SHA-1 or SHA-256 object name, nothing else.
func commitID(s string) (string, bool) {
	if len(s) != 40 && len(s) != 64 {
		return "", false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", false
		}
	}
	return s, true
}
