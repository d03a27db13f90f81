// Package examples holds the project's example files; the demo world is
// embedded so that `orgscan demo` runs without any file on disk.
package examples

import _ "embed"

// DemoWorld is demo-world.json: the awssim fixture of a realistic
// organization that `orgscan demo` scans.
//
//go:embed demo-world.json
var DemoWorld []byte
