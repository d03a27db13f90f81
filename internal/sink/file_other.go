//go:build !unix

package sink

import "io/fs"

// openNoFollow is zero where open has no such flag; O_EXCL alone already
// refuses any existing name, a link included.
const openNoFollow = 0

// checkLink allows every link: systems other than Unix have no sticky
// shared directories in which another user could plant one.
func checkLink(path, link string, fi fs.FileInfo) error { return nil }
