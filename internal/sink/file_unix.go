//go:build unix

package sink

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openNoFollow makes an open fail on a symbolic link instead of following it.
const openNoFollow = syscall.O_NOFOLLOW

// checkLink applies the protected-symlinks rule (see UnsafeLinkError) to the
// link at link, whose directory holds no link itself.
func checkLink(path, link string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	dir := filepath.Dir(link)
	di, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	if ds, ok := di.Sys().(*syscall.Stat_t); ok && ds.Uid == st.Uid {
		return nil
	}
	return &UnsafeLinkError{Path: path, Link: link, Dir: dir, UID: int(st.Uid)}
}
