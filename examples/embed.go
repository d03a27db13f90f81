// Package examples holds the project's example files; the demo world is
// embedded so that `orgscan demo` runs without any file on disk.
package examples

import (
	_ "embed"
	"time"
)

// DemoWorld is demo-world.json: the awssim fixture of a realistic
// organization that `orgscan demo` scans.
//
//go:embed demo-world.json
var DemoWorld []byte

// DemoWorldAsOf is the moment DemoWorld describes: its keys, passwords and
// their last uses are as old as they were then. The demo moves the world to
// the moment it runs, so that what it shows (a key held because it was used
// recently) does not age.
func DemoWorldAsOf() time.Time { return time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC) }
