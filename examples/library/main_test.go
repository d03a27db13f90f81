package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
)

// TestTheExampleScansTheSimulatedOrganization builds the example as a user
// would and runs it against the simulator, configured only through the
// standard AWS environment variables.
func TestTheExampleScansTheSimulatedOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	bin := filepath.Join(t.TempDir(), "library")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build the example: %v\n%s", err, out)
	}
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatal(err)
	}
	w := simtest.Start(t, fx, awssim.Options{}, 4)
	cmd := exec.Command(bin)
	cmd.Env = simtest.ProcessEnv(t, fx, w.Server.URL())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run the example: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := regexp.MustCompile(`^(\d+) of (\d+) accounts with findings \(complete: true\)$`).FindStringSubmatch(lines[len(lines)-1])
	if m == nil {
		t.Fatalf("the last line is not the count of a complete scan:\n%s", out)
	}
	withFindings, _ := strconv.Atoi(m[1])
	listed, _ := strconv.Atoi(m[2])
	if listed != len(fx.Accounts) || withFindings == 0 || withFindings != len(lines)-1 {
		t.Errorf("%d accounts listed of %d, %d lines for %d accounts with findings:\n%s", listed, len(fx.Accounts), len(lines)-1, withFindings, out)
	}
	// The demo world's account with root access keys.
	if !regexp.MustCompile(`(?m)^520384716293 .*: .*root-access-key`).Match(out) {
		t.Errorf("the account with root access keys is not listed with its finding:\n%s", out)
	}
}
