package sink

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func TestWriteFileAtomic(t *testing.T) {
	t.Run("a new file gets the content and mode 0600", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.json")
		if err := writeFileAtomic(path, 0o600, writeString("new")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, "new", 0o600)
		if got := dirEntries(t, dir); len(got) != 1 {
			t.Errorf("directory holds %v, want only the report", got)
		}
	})
	t.Run("an existing file is replaced whole, and its mode too", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "report.json")
		if err := os.WriteFile(path, []byte("old content"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := writeFileAtomic(path, 0o600, writeString("new")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, path, "new", 0o600)
	})
	t.Run("a symbolic link keeps pointing at the replaced file", func(t *testing.T) {
		dir := t.TempDir()
		real := filepath.Join(dir, "real.json")
		link := filepath.Join(dir, "link.json")
		if err := os.WriteFile(real, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("real.json", link); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
		if err := writeFileAtomic(link, 0o600, writeString("new")); err != nil {
			t.Fatal(err)
		}
		checkFile(t, real, "new", 0o600)
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was replaced: %v %v", fi, err)
		}
	})

	failures := []struct {
		name  string
		setup func(t *testing.T, dir string) string
		write func(io.Writer) error
	}{
		{"when the writer fails", existingReport, func(w io.Writer) error {
			if _, err := io.WriteString(w, "half"); err != nil {
				return err
			}
			return errors.New("scan failed")
		}},
		{"when the writer panics", existingReport, func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			panic("writer bug")
		}},
		{"when the rename fails because the target is a directory", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "report.json")
			if err := os.Mkdir(path, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(path, "keep"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		}, writeString("new")},
	}
	for _, tc := range failures {
		t.Run(tc.name+", the previous file stays and no temporary file is left", func(t *testing.T) {
			dir := t.TempDir()
			path := tc.setup(t, dir)
			before := dirEntries(t, dir)
			err := func() (err error) {
				defer func() {
					if p := recover(); p != nil {
						err = errors.New("panicked")
					}
				}()
				return writeFileAtomic(path, 0o600, tc.write)
			}()
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != "panicked" && !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if after := dirEntries(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("directory went from %v to %v", before, after)
			}
			if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
				checkFile(t, path, "previous", 0o644)
			}
		})
	}
}

func existingReport(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "report.json")
	if err := os.WriteFile(path, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func checkFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Errorf("%s holds %q, want %q", path, got, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != mode {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
	}
}

func TestCheckWritable(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.json")
	if err := os.WriteFile(existing, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		linux   bool
		wantErr string
	}{
		{"a new file in an existing directory is fine", filepath.Join(dir, "report.json"), false, ""},
		{"an existing file is fine", existing, false, ""},
		{"a bare file name in the working directory is fine", "report-" + t.Name() + ".json", false, ""},
		{"an empty path is refused", "", false, "empty file name"},
		{"a directory is refused", dir, false, "is a directory"},
		{"a missing directory is refused", filepath.Join(dir, "missing", "report.json"), false, "does not exist; create it"},
		{"a file as the directory is refused", filepath.Join(existing, "report.json"), false, "not a directory"},
		{"a device is refused", "/dev/null", true, "not a regular file"},
		{"a directory nobody can write to, root included, is refused", "/proc/report.json", true, "choose a writable directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.linux && runtime.GOOS != "linux" {
				t.Skip("needs Linux's /dev and /proc")
			}
			err := CheckWritable(tc.path)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("CheckWritable(%q): %v", tc.path, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("CheckWritable(%q) = %v, want an error saying %q", tc.path, err, tc.wantErr)
			case err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), tc.path)):
				t.Errorf("error %q is not one line naming the path", err)
			}
		})
	}
	if got := dirEntries(t, dir); len(got) != 1 {
		t.Errorf("probe files left behind: %v", got)
	}
}
