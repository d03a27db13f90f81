package sink

import (
	"bufio"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/output"
)

// writeFileAtomic writes a file so that readers, and a crash at any point,
// see either the previous file or the complete new one, never a torn one.
// write fills a temporary file in the same directory (a rename is atomic
// only within one file system), which is synced, given mode and renamed
// over path. The temporary file is removed on every error path, a panic in
// write included. When path is a symbolic link the file it points to is
// replaced and the link stays, as a shell redirection would; a link that
// another user may have planted is refused instead (see UnsafeLinkError).
//
// Reports hold account emails: callers pass 0600.
func writeFileAtomic(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
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
// path is not a directory or a device. The error is one line that starts
// with the path, or says it is empty, and ends with the fix; a caller that
// took the path from a setting names the setting before it.
func CheckWritable(path string) error {
	if path == "" {
		return errors.New("empty file name; give a file path such as report.json")
	}
	target, err := resolve(path)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(target); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("%s is a directory; give a file name inside it, such as %s", path, filepath.Join(path, "report.json"))
		case !fi.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file; give the path of a file", path)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %v; choose another path", path, err)
	}
	dir := filepath.Dir(target)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: directory %s does not exist; create it first or choose another path", path, dir)
	case err != nil:
		return fmt.Errorf("%s: %v; choose another path", path, err)
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a directory; choose another path", path, dir)
	}
	// Permission bits do not tell (root ignores them, a file system can be
	// read-only), so try what writeFileAtomic will do.
	f, err := os.CreateTemp(dir, ".orgscan-check-*")
	if err != nil {
		return fmt.Errorf("%s: cannot create files in %s; choose a writable directory (%v)", path, dir, err)
	}
	name := f.Name()
	closeErr := f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("%s: remove probe file %s: %v", path, name, err)
	}
	if closeErr != nil {
		return fmt.Errorf("%s: cannot write in %s; choose a writable directory (%v)", path, dir, closeErr)
	}
	return nil
}

// maxLinks bounds the links one path may pass through, as the kernel's own
// limit does: a loop of links must end in an error, not hang.
const maxLinks = 40

// UnsafeLinkError is a symbolic link that writing refuses to follow: it sits
// in a sticky, world-writable directory (/tmp, /var/tmp) and belongs to
// neither the caller nor the directory's owner, so another user may have
// planted it to turn the write onto a file of the caller's (a shell start-up
// file, say). It is Linux's fs.protected_symlinks rule (kernel
// Documentation/admin-guide/sysctl/fs.rst): there a link is followed only
// outside a sticky world-writable directory, or when the link and the
// follower have the same owner, or when the directory and the link do. The
// kernel never sees the link when a program resolves the path itself, as
// writing beside the target must, so the rule is applied here, whatever the
// system's setting.
type UnsafeLinkError struct {
	Path string // the path written to
	Link string // the refused link on the way
	Dir  string // the sticky directory that holds it
	UID  int    // the link's owner
}

func (e *UnsafeLinkError) Error() string {
	return fmt.Sprintf("write %s: refusing to follow the symbolic link %s: it is in the shared directory %s and belongs to another user (uid %d), who may have planted it; remove the link or write to a path in a directory of your own",
		output.Sanitize(e.Path), output.Sanitize(e.Link), output.Sanitize(e.Dir), e.UID)
}

// resolve returns where a write to path lands. It follows symbolic links
// one component at a time, as the kernel does, so that every link on the
// way, a directory's as well as the file's, passes checkLink; a link that
// points nowhere resolves to where it points, which the write then creates.
// What does not exist yet holds no link, so the rest of the path is
// returned as it is, for the write to report.
func resolve(path string) (string, error) {
	sep := string(filepath.Separator)
	var done string // the resolved part, which holds no link
	rest := path
	if filepath.IsAbs(rest) {
		vol := filepath.VolumeName(rest)
		done, rest = vol+sep, rest[len(vol):]
	}
	links := 0
	for rest != "" {
		name, after, _ := strings.Cut(rest, sep)
		rest = after
		switch name {
		case "", ".":
			continue
		case "..":
			// done holds no link, so its parent is found by name.
			if done == "" || filepath.Base(done) == ".." {
				done = filepath.Join(done, "..")
			} else if done = filepath.Dir(done); done == "." {
				done = ""
			}
			continue
		}
		next := filepath.Join(done, name)
		fi, err := os.Lstat(next)
		if err != nil {
			if rest != "" {
				next += sep + rest
			}
			return next, nil
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			done = next
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("write %s: too many symbolic links on the way; give the file's real path", path)
		}
		if err := checkLink(path, next, fi); err != nil {
			return "", err
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("write %s: read symbolic link %s: %w", path, next, err)
		}
		if filepath.IsAbs(target) {
			vol := filepath.VolumeName(target)
			done, target = vol+sep, target[len(vol):]
		}
		if rest != "" {
			target += sep + rest
		}
		rest = target
	}
	if done == "" {
		return ".", nil
	}
	return done, nil
}

// writeFallback keeps a document that could not go where it was meant to (a
// failed upload): in dir, or in the system's temporary directory when dir
// takes no new file. It returns the file's path, absolute where it can.
//
// The name carries the document's stem and time, for people, and a random
// part, so that nobody can plant a link at it in advance in a shared
// directory. The file is created exclusively and without following a link: a name that exists
// is never written through.
func writeFallback(dir, name string, started time.Time, ext string, body []byte) (string, error) {
	prefix := name + "-fallback-" + started.UTC().Format("20060102T150405Z") + "-"
	path, err := writeNew(dir, prefix, ext, body)
	if err == nil {
		return path, nil
	}
	path, tmpErr := writeNew(os.TempDir(), prefix, ext, body)
	if tmpErr == nil {
		return path, nil
	}
	return "", fmt.Errorf("%w; %w", err, tmpErr)
}

// writeNew writes body to a new file in dir, named prefix, a random part
// and ext, with mode 0600.
func writeNew(dir, prefix, ext string, body []byte) (string, error) {
	path := filepath.Join(dir, prefix+strings.ToLower(rand.Text())+ext)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|openNoFollow, 0o600)
	if err != nil {
		return "", fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // the error below is what matters; a partial file is no report
		return "", fmt.Errorf("write %s: %w", path, unwrapPath(err))
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return path, nil
}

// unwrapPath drops the *fs.PathError around err, whose path the message
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
