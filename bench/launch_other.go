//go:build !linux

package main

import (
	"context"
	"errors"
	"os/exec"
	"time"
)

// launchIfAsked: only Linux needs a launcher (launch_linux.go).
func launchIfAsked() (code int, launched bool) { return 0, false }

// measuredCommand runs bin itself: how other kernels account a child's
// peak memory was not examined, so the figures are what wait4 gives.
func measuredCommand(ctx context.Context, _, bin string, args, env []string) (*exec.Cmd, func() (launchReport, error), error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	started := time.Now()
	read := func() (launchReport, error) {
		if cmd.ProcessState == nil {
			return launchReport{}, errors.New("orgscan did not run")
		}
		u := processUsage(cmd.ProcessState)
		return launchReport{Started: started, Wall: time.Since(started), CPU: u.cpu, MaxRSS: u.maxRSS, Measured: u.measured, ExitCode: cmd.ProcessState.ExitCode()}, nil
	}
	return cmd, read, nil
}
