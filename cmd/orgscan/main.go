// Command orgscan audits the root user of every account in an AWS
// Organization: access keys, signing certificates, MFA and password.
package main

import (
	"context"
	"os"

	"github.com/orgscan/orgscan/internal/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.System()))
}
