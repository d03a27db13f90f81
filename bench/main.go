// Command bench measures orgscan at organization scale against the loopback
// simulator: for each scenario it starts awssim as its own process with a
// generated organization and a modelled AWS (latency, jitter, quotas), runs
// the orgscan binary against it, and prints one result line with the wall
// time, the quota-imposed lower bound, peak memory, CPU, the requests the
// simulator saw and the rows in error, then PASS or FAIL against the
// targets of issue 7. See bench/README.md.
//
//	go run ./bench                      # every scenario
//	go run ./bench -scenario discovery  # one family
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if code, ok := launchIfAsked(); ok {
		os.Exit(code)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
