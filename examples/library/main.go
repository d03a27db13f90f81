// Command library embeds orgscan's scan in a Go program: it scans the
// organization of the caller's credentials and prints each account with
// findings. Credentials, region and endpoint come from the standard AWS
// environment (AWS_PROFILE, AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL…).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout); err != nil {
		var se *scan.Error
		if errors.As(err, &se) {
			fmt.Fprintf(os.Stderr, "scan failed at %s (%s, fix: %s): ", se.Stage, se.Code, se.Hint)
		}
		fmt.Fprintln(os.Stderr, output.Sanitize(err.Error()))
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{Concurrency: orgscan.DefaultConcurrency})
	if err != nil {
		return err
	}
	rep, err := orgscan.Run(ctx, orgscan.Config{AWS: cfg})
	if err != nil {
		return err
	}
	for _, row := range rep.Accounts {
		if row.HasFindings() {
			// Names come from AWS: never print them raw.
			fmt.Fprintf(w, "%s %s: %s\n", row.AccountID, output.Sanitize(row.AccountName), strings.Join(row.Findings, ", "))
		}
	}
	fmt.Fprintf(w, "%d of %d accounts with findings (complete: %t)\n", rep.Scan.Counts.WithFindings, rep.Scan.Counts.Listed, rep.Scan.Complete)
	return nil
}
