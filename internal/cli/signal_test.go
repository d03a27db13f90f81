package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/internal/simtest"
)

// buildOrgscan compiles the real binary once per test that needs it.
func buildOrgscan(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "orgscan")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/orgscan")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build orgscan: %v\n%s", err, out)
	}
	return bin
}

// binaryEnv is a clean environment that points the binary at the simulator.
func binaryEnv(t *testing.T, s *sim) []string {
	t.Helper()
	return simtest.ProcessEnv(t, s.fx, s.srv.URL())
}

func TestInterruptWritesAPartialMarkedReportAndExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildOrgscan(t)
	fx := awssim.Generate(awssim.GenerateOptions{Seed: 11, Accounts: 300, OUDepth: 2, OUWidth: 3})
	s := startSim(t, fx, awssim.Options{Latency: 30 * time.Millisecond, Now: time.Now})
	report := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(bin, "scan", "-q", "--concurrency", "2", "-f", "ndjson", "--out", "-", "--out", report)
	cmd.Env = binaryEnv(t, s)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 0, 64<<10), 1<<20)
	streamed := 0
	for streamed < 3 && lines.Scan() {
		streamed++
	}
	if streamed < 3 {
		t.Fatalf("the scan streamed %d rows before ending", streamed)
	}
	signalled := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		streamed++
	}
	err = cmd.Wait()
	stopped := time.Since(signalled)
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != exitInterrupted {
		t.Fatalf("exit = %v, want status 130; stderr:\n%s", err, stderr.String())
	}
	if stopped > 3*time.Second {
		t.Errorf("took %s to stop after the interrupt", stopped)
	}

	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("the partial report was not written: %v", err)
	}
	var doc struct {
		Scan struct {
			Complete    bool           `json:"complete"`
			Interrupted bool           `json:"interrupted"`
			Counts      map[string]int `json:"counts"`
		} `json:"scan"`
		Accounts []struct {
			Status string `json:"status"`
		} `json:"accounts"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("partial report is not JSON: %v", err)
	}
	c := doc.Scan.Counts
	if !doc.Scan.Interrupted || doc.Scan.Complete {
		t.Errorf("report not marked interrupted and incomplete: %+v", doc.Scan)
	}
	if c["not_scanned"] == 0 || c["scanned"] == 0 {
		t.Errorf("want scanned and not_scanned accounts, got %v", c)
	}
	if c["scanned"]+c["skipped"]+c["errors"]+c["not_scanned"] != c["listed"] || c["listed"] != len(doc.Accounts) {
		t.Errorf("counts do not add up: %v for %d rows", c, len(doc.Accounts))
	}
	if streamed != len(doc.Accounts) {
		t.Errorf("stdout streamed %d rows, the file holds %d: every account must appear once in each", streamed, len(doc.Accounts))
	}
}
