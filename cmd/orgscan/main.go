// Command orgscan audits the root user of every account in an AWS
// Organization: access keys, signing certificates, MFA and password.
package main

import (
	"context"
	"os"
	"runtime"

	"github.com/orgscan/orgscan/internal/cli"
)

func main() {
	// A scan waits on AWS, whose STS quota (600 calls a second per calling
	// account) caps it at about half a core. A second P buys no speed, only
	// thread hand-offs: 15% more CPU per account in the throttle-storm
	// benchmark (bench/README.md). GOMAXPROCS in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.System()))
}
