//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestLauncherMeasuresTheChildNotTheHarness holds a large heap in the
// harness (the test process) and starts a small child, directly and
// through the launcher: started directly, the child's maxrss carries the
// harness's peak; through the launcher it is the child's own.
func TestLauncherMeasuresTheChildNotTheHarness(t *testing.T) {
	const held = 128 << 20
	ballast := make([]byte, held)
	for i := range ballast {
		ballast[i] = 1
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The child is this test binary running no test.
	args := []string{"-test.run=^$"}
	ctx := context.Background()

	direct := exec.CommandContext(ctx, self, args...)
	if out, err := direct.CombinedOutput(); err != nil {
		t.Fatalf("direct child: %v\n%s", err, out)
	}
	// Not asserted: it is the kernel's behaviour the launcher works around.
	t.Logf("started directly, the child's maxrss is %s with %s held by the harness", mb(processUsage(direct.ProcessState).maxRSS), mb(held))

	cmd, measured, err := measuredCommand(ctx, t.TempDir(), self, args, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("launched child: %v\n%s", err, out)
	}
	m, err := measured()
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(ballast)
	if m.MaxRSS >= held/2 || !m.Measured || m.ExitCode != 0 || m.CPU <= 0 || m.Wall <= 0 {
		t.Fatalf("through the launcher: %+v; want the child's own peak, well under the %s the harness holds", m, mb(held))
	}
	t.Logf("through the launcher: %s", mb(m.MaxRSS))
}

// TestLauncherPassesTheExitStatusOn: a failing command fails the launcher
// the same way, and its report still arrives.
func TestLauncherPassesTheExitStatusOn(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, measured, err := measuredCommand(context.Background(), t.TempDir(), self, []string{"-test.run=^$", "-no-such-flag"}, os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	err = cmd.Run()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("launcher: %v; want exit status 2, the test binary's for a bad flag", err)
	}
	m, err := measured()
	if err != nil {
		t.Fatal(err)
	}
	if m.ExitCode != 2 {
		t.Fatalf("report: exit code %d, want 2", m.ExitCode)
	}
}
