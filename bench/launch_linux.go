//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Why orgscan is started through a launcher on Linux: a process that execs
// is charged with the peak resident memory of the address space it leaves
// (fs/exec.c, exec_mmap: setmax_mm_hiwater_rss), and Go starts a child in
// its parent's address space (clone with CLONE_VM and CLONE_VFORK), so the
// maxrss that wait4 gives for a child of the harness is at least the
// harness's own peak so far. After the 50,000-account scenario the
// harness's peak was above orgscan's, and every later run reported it
// (TestLauncherMeasuresTheChildNotTheHarness shows both). The launcher is
// this binary started afresh, so its address space is small; it starts
// orgscan, waits for it and writes what wait4 accounted to orgscan.

// launchEnv names the file a launcher writes its report to; the harness
// binary is a launcher when it is set.
const launchEnv = "ORGSCAN_BENCH_LAUNCH_REPORT"

// launchIfAsked runs the launcher when the harness binary was started as
// one, and reports whether it was.
func launchIfAsked() (code int, launched bool) {
	report, ok := os.LookupEnv(launchEnv)
	if !ok {
		return 0, false
	}
	return launch(report, os.Args[1:]), true
}

// launch runs args to completion with the launcher's standard streams and
// environment (less launchEnv), passes SIGTERM on, and writes a
// launchReport to the file report. Its exit status is the process's.
// SIGINT is caught and not passed on: Ctrl-C reaches the whole process
// group, and a second interrupt makes orgscan remediate quit without its
// report.
func launch(report string, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench launcher: no command to run")
		return 2
	}
	// The parent-death signal follows the thread that started the child: if
	// the harness kills the launcher, the child goes with it.
	runtime.LockOSThread()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, launchEnv+"=") })
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, os.Interrupt)
	r := launchReport{Started: time.Now()}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "bench launcher: %v\n", err)
		return 127
	}
	go func() {
		for s := range signals {
			if s == syscall.SIGTERM {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	_ = cmd.Wait() // the exit status is in ProcessState
	r.Wall = time.Since(r.Started)
	u := processUsage(cmd.ProcessState)
	r.CPU, r.MaxRSS, r.Measured, r.ExitCode = u.cpu, u.maxRSS, u.measured, cmd.ProcessState.ExitCode()
	b, err := json.Marshal(r)
	if err == nil {
		err = os.WriteFile(report, b, 0o600)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench launcher: %v\n", err)
		return 2
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return r.ExitCode
}

// measuredCommand is the command that runs bin with args through a
// launcher, and the function that, once the command was waited for, reads
// what the launcher measured. env is the process's environment.
func measuredCommand(ctx context.Context, dir, bin string, args, env []string) (*exec.Cmd, func() (launchReport, error), error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find the harness binary to launch orgscan with: %w", err)
	}
	f, err := os.CreateTemp(dir, "launch-*.json")
	if err != nil {
		return nil, nil, fmt.Errorf("launcher report: %w", err)
	}
	report := f.Name()
	f.Close()
	cmd := exec.CommandContext(ctx, self, append([]string{bin}, args...)...)
	cmd.Env = append(slices.Clip(env), launchEnv+"="+report)
	read := func() (launchReport, error) {
		defer os.Remove(report)
		var r launchReport
		b, err := os.ReadFile(report)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err != nil {
			return r, fmt.Errorf("the launcher's report of %s: %w", bin, err)
		}
		return r, nil
	}
	return cmd, read, nil
}
