package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// binaries are orgscan and awssim, built once per harness run.
type binaries struct {
	orgscan, awssim string
}

// build compiles both commands into dir from the module at root.
func build(ctx context.Context, root, dir string) (binaries, error) {
	b := binaries{orgscan: filepath.Join(dir, "orgscan"), awssim: filepath.Join(dir, "awssim")}
	for _, t := range []struct{ out, pkg string }{{b.orgscan, "./cmd/orgscan"}, {b.awssim, "./cmd/awssim"}} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", t.out, t.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return binaries{}, fmt.Errorf("go build %s: %w\n%s", t.pkg, err, out)
		}
	}
	return b, nil
}

// moduleRoot finds the directory of the orgscan module from the working
// directory, so that `go run ./bench` works from anywhere inside it.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the orgscan module: run the harness from the repository (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

// simulator is a running awssim process.
type simulator struct {
	cmd      *exec.Cmd
	endpoint string
	keyID    string
	secret   string
	stderr   *bytes.Buffer
	exited   chan struct{}
	usage    usage // set once exited is closed
	waitErr  error
}

// startSimulator starts awssim and waits until it serves: it prints its
// export lines only once it listens.
func startSimulator(ctx context.Context, bin string, args []string) (*simulator, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{} // nothing of the caller's AWS setup leaks in
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("awssim stdout: %w", err)
	}
	sim := &simulator{cmd: cmd, stderr: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = sim.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start awssim: %w", err)
	}
	go sim.wait()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Whatever awssim prints after its export lines is read and dropped,
	// so that it never blocks on a full pipe.
	defer func() {
		go func() {
			for range lines {
			}
		}()
	}()
	ready := time.NewTimer(30 * time.Second)
	defer ready.Stop()
	env := map[string]string{}
	for env["AWS_REGION"] == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				<-sim.exited
				return nil, fmt.Errorf("awssim exited before serving: %v\n%s", sim.waitErr, sim.stderr)
			}
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
				env[k] = v
			}
		case <-ready.C:
			sim.stop()
			return nil, fmt.Errorf("awssim did not print its endpoint within 30s\n%s", sim.stderr)
		case <-ctx.Done():
			sim.stop()
			return nil, ctx.Err()
		}
	}
	sim.endpoint, sim.keyID, sim.secret = env["AWS_ENDPOINT_URL"], env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
	if sim.endpoint == "" || sim.keyID == "" || sim.secret == "" {
		sim.stop()
		return nil, fmt.Errorf("awssim printed no endpoint or credentials: %v", env)
	}
	return sim, nil
}

func (s *simulator) wait() {
	s.waitErr = s.cmd.Wait()
	s.usage = processUsage(s.cmd.ProcessState)
	close(s.exited)
}

// stop ends the simulator (SIGTERM, as a person's Ctrl-C) and waits for it.
func (s *simulator) stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = terminate(s.cmd.Process)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-s.exited:
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// stats reads the simulator's per-operation counters.
func (s *simulator) stats(ctx context.Context) (awssim.Stats, error) {
	var st awssim.Stats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.endpoint+"/_awssim/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, fmt.Errorf("read awssim stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("read awssim stats: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("decode awssim stats: %w", err)
	}
	return st, nil
}

// usage is what the kernel accounted to a finished process.
type usage struct {
	cpu      time.Duration // user + system
	maxRSS   int64         // bytes
	measured bool          // false where the platform has no rusage
}

// scanRun is what one orgscan run measured.
type scanRun struct {
	wall     time.Duration
	usage    usage
	exitCode int
	stderr   string
	started  time.Time
	rows     rowCounts
}

// launchReport is what was measured of an orgscan process: by a launcher
// on Linux (launch_linux.go), by the harness itself elsewhere.
type launchReport struct {
	Started  time.Time     `json:"started"`
	Wall     time.Duration `json:"wall_ns"`
	CPU      time.Duration `json:"cpu_ns"`
	MaxRSS   int64         `json:"max_rss_bytes"`
	ExitCode int           `json:"exit_code"`
	Measured bool          `json:"measured"`
}

// runScan runs the orgscan binary to completion (or the timeout).
func runScan(ctx context.Context, bin string, args []string, sim *simulator, out string, timeout time.Duration) (scanRun, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir := filepath.Dir(out)
	// Only the simulator's credentials, and no shared config or instance
	// metadata: the harness must not pick up a person's AWS profile.
	env := append(runtimeEnv(),
		"AWS_ACCESS_KEY_ID="+sim.keyID,
		"AWS_SECRET_ACCESS_KEY="+sim.secret,
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "no-aws-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "no-aws-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"HOME="+dir,
	)
	cmd, measured, err := measuredCommand(ctx, dir, bin, args, env)
	if err != nil {
		return scanRun{}, err
	}
	cmd.Cancel = func() error { return terminate(cmd.Process) }
	cmd.WaitDelay = 10 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	r := scanRun{started: time.Now()}
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start orgscan: %w", err)
	}
	err = cmd.Wait()
	r.wall = time.Since(r.started)
	r.stderr = stderr.String()
	m, merr := measured()
	switch {
	case cmd.ProcessState == nil:
		return r, fmt.Errorf("orgscan: %w", err)
	case ctx.Err() != nil:
		return r, fmt.Errorf("orgscan did not finish within %s", timeout)
	case merr != nil:
		return r, merr
	}
	r.started, r.wall, r.exitCode = m.Started, m.Wall, m.ExitCode
	r.usage = usage{cpu: m.CPU, maxRSS: m.MaxRSS, measured: m.Measured}
	return r, nil
}

// runtimeEnv passes the Go runtime's knobs through, so that a person can
// try GOGC or GOMEMLIMIT on orgscan without editing the harness.
func runtimeEnv() []string {
	var env []string
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// rowCounts summarizes an NDJSON report: a scan's rows, or a
// remediation's accounts.
type rowCounts struct {
	total, ok, skipped, errors, notScanned int
	// firstRow and lastRow are the earliest and latest scanned_at (or, in
	// a remediation, deletion time): how soon the work started and how long
	// the report took after it ended.
	firstRow, lastRow time.Time
	errorSample       string
	// keyOrCert counts a scan's rows with a root access key or signing
	// certificate finding; deleted a remediation's deleted credentials.
	keyOrCert, deleted int
	// tagged and tagsErrors count the rows with tags, and with a failure
	// to read them.
	tagged, tagsErrors int
}

// reportRow is what the harness reads of a scan's row or a remediation's
// account: their error is a string and an object respectively.
type reportRow struct {
	AccountID string            `json:"account_id"`
	Status    string            `json:"status"`
	Error     json.RawMessage   `json:"error"`
	ScannedAt *time.Time        `json:"scanned_at"`
	Findings  []string          `json:"findings"`
	Tags      map[string]string `json:"tags"`
	TagsError json.RawMessage   `json:"tags_error"`
	Actions   []struct {
		Outcome string     `json:"outcome"`
		At      *time.Time `json:"at"`
	} `json:"actions"`
}

// errorText is the row's error in words; "" when it has none.
func (r *reportRow) errorText() string {
	var text string
	if json.Unmarshal(r.Error, &text) == nil {
		return text
	}
	var obj struct{ Code, Message string }
	if json.Unmarshal(r.Error, &obj) == nil && (obj.Code != "" || obj.Message != "") {
		return obj.Code + ": " + obj.Message
	}
	return ""
}

// Statuses of a remediation's accounts that are done (the scan's "ok").
const statusRemediated = "remediated"

// countRows reads an NDJSON report, one account per line.
func countRows(path string) (rowCounts, error) {
	var c rowCounts
	f, err := os.Open(path)
	if err != nil {
		return c, fmt.Errorf("open the report: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	seen := func(t *time.Time) {
		if t == nil {
			return
		}
		if c.firstRow.IsZero() || t.Before(c.firstRow) {
			c.firstRow = *t
		}
		if t.After(c.lastRow) {
			c.lastRow = *t
		}
	}
	for n := 1; sc.Scan(); n++ {
		var row reportRow
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return c, fmt.Errorf("report %s line %d: %w", path, n, err)
		}
		c.total++
		switch row.Status {
		case "ok", statusRemediated:
			c.ok++
		case "skipped":
			c.skipped++
		case "not_scanned":
			c.notScanned++
		default:
			c.errors++
			if c.errorSample == "" {
				c.errorSample = row.AccountID + ": " + row.Status
				if e := row.errorText(); e != "" {
					c.errorSample = row.AccountID + ": " + e
				}
			}
		}
		if slices.Contains(row.Findings, "root-access-key") || slices.Contains(row.Findings, "root-signing-certificate") {
			c.keyOrCert++
		}
		if row.Tags != nil {
			c.tagged++
		}
		if len(row.TagsError) > 0 && string(row.TagsError) != "null" {
			c.tagsErrors++
		}
		seen(row.ScannedAt)
		for _, a := range row.Actions {
			if a.Outcome == "deleted" {
				c.deleted++
				seen(a.At)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("read the report %s: %w", path, err)
	}
	return c, nil
}
