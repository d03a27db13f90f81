package output

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes a file so that readers, and a crash at any point,
// see either the previous file or the complete new one, never a torn one.
// write fills a temporary file in the same directory (a rename is atomic
// only within one file system), which is synced, given mode and renamed
// over path. The temporary file is removed on every error path, a panic in
// write included. When path is a symbolic link the file it points to is
// replaced, as a shell redirection would.
//
// Reports hold account emails: callers pass 0600.
func WriteFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: create temporary file: %w", path, err)
	}
	tmp := f.Name()
	done := false
	defer func() {
		if !done {
			_ = f.Close() // already failing; the removal below matters more
			if rmErr := os.Remove(tmp); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err != nil {
				err = fmt.Errorf("%w (and remove temporary file %s: %v)", err, tmp, rmErr)
			}
		}
	}()

	// CreateTemp makes the file 0600, but Chmod also drops any bits a
	// permissive umask would have let through for other modes.
	if err := f.Chmod(mode.Perm()); err != nil {
		return fmt.Errorf("write %s: set mode %v: %w", path, mode.Perm(), err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("write %s: rename temporary file into place: %w", path, err)
	}
	done = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable. It is best effort: the file is already
// complete and in place, and some systems cannot sync a directory.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// CheckWritable verifies, before a scan spends any time on AWS, that path
// can receive a report: its directory exists and takes new files, and
// path is not a directory or a device. The error is one line naming the
// path and the fix.
func CheckWritable(path string) error {
	if path == "" {
		return errors.New("--out: empty file name; give a file path such as report.json")
	}
	target, err := resolve(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(target); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("--out %s is a directory; give a file name inside it, such as %s", path, filepath.Join(path, "report.json"))
		case !fi.Mode().IsRegular():
			return fmt.Errorf("--out %s is not a regular file; give a file path (leave --out off to write to stdout)", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--out %s: %v; choose another path", path, err)
	}
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--out %s: directory %s does not exist; create it first or choose another path", path, dir)
	case err != nil:
		return fmt.Errorf("--out %s: %v; choose another path", path, err)
	case !fi.IsDir():
		return fmt.Errorf("--out %s: %s is not a directory; choose another path", path, dir)
	}
	// Permission bits do not tell (root ignores them, a file system can be
	// read-only), so try what WriteFileAtomic will do.
	f, err := os.CreateTemp(dir, ".orgscan-check-*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot create files in %s; choose a writable directory (%v)", path, dir, err)
	}
	name := f.Name()
	closeErr := f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("--out %s: remove probe file %s: %v", path, name, err)
	}
	if closeErr != nil {
		return fmt.Errorf("--out %s: cannot write in %s; choose a writable directory (%v)", path, dir, closeErr)
	}
	return nil
}

// resolve follows a symbolic link at path, so that writing replaces the
// file it points to rather than the link.
func resolve(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		// A dangling link: write where it points.
		link, lerr := os.Readlink(path)
		if lerr != nil {
			return "", fmt.Errorf("read symbolic link %s: %w", path, lerr)
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(path), link)
		}
		return link, nil
	}
	if err != nil {
		return "", fmt.Errorf("follow symbolic link %s: %w", path, err)
	}
	return target, nil
}
