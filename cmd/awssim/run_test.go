package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/orgscan/orgscan/internal/awssim"
)

func TestRunRefusesBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"a non-loopback listen address is refused", []string{"--listen", "0.0.0.0:4566"}, "not a loopback address"},
		{"a listen address without a port is refused", []string{"--listen", "127.0.0.1"}, "want host:port"},
		{"an unknown flag is refused", []string{"--no-such-flag"}, "flag provided but not defined"},
		{"a fixture with generator flags is refused", []string{"--fixture", "x.json", "--accounts", "5"}, "exclude each other"},
		{"a missing fixture file is refused", []string{"--listen", "127.0.0.1:0", "--fixture", "/nonexistent/world.json"}, "open fixture"},
		{"zero accounts are refused", []string{"--accounts", "0"}, "want at least 1"},
		{"a fraction above one is refused", []string{"--root-keys", "1.5"}, "root keys fraction"},
		{"an error rate above one is refused", []string{"--error-rate", "2"}, "--error-rate 2"},
		{"a negative rate is refused", []string{"--sts-rate", "-1"}, "must not be negative"},
		{"an unknown fault service is refused", []string{"--fault-services", "sts,ec2"}, `unknown service "ec2"`},
		{"a stray argument is refused", []string{"serve"}, `unexpected argument "serve"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("stderr %q does not mention %q", stderr.String(), tc.wantErr)
			}
			if stdout.Len() != 0 {
				t.Fatalf("stdout = %q, want nothing", stdout.String())
			}
		})
	}
	t.Run("a non-loopback address gets a one-line error", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		run(context.Background(), []string{"--listen", "192.0.2.1:4566"}, &stdout, &stderr)
		if lines := strings.Split(strings.TrimSpace(stderr.String()), "\n"); len(lines) != 1 {
			t.Fatalf("stderr has %d lines:\n%s", len(lines), stderr.String())
		}
	})
}

// exportsWriter collects stdout and tells when the export lines are in.
type exportsWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newExportsWriter() *exportsWriter { return &exportsWriter{ready: make(chan struct{})} }

func (w *exportsWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), "AWS_DEFAULT_REGION=") {
		w.once.Do(func() { close(w.ready) })
	}
	return n, err
}

func (w *exportsWriter) exports() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(w.buf.String()), "\n") {
		k, v, _ := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		out[k] = v
	}
	return out
}

func TestRunServesUntilCancelled(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		wantKey      string
		wantAccounts int
		wantMgmt     string
	}{
		{"a generated organization", []string{"--accounts", "30", "--seed", "3", "--ou-depth", "1", "--ou-width", "2"},
			awssim.DefaultAccessKeyID, 30, awssim.DefaultManagementAccountID},
		{"the demo world", []string{"--fixture", "../../examples/demo-world.json", "--latency", "1ms"},
			"AKIADEMOADMIN0000001", 15, "210987654321"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stdout := newExportsWriter()
			var stderr bytes.Buffer
			done := make(chan int, 1)
			go func() { done <- run(ctx, append([]string{"--listen", "127.0.0.1:0"}, tc.args...), stdout, &stderr) }()
			select {
			case <-stdout.ready:
			case code := <-done:
				t.Fatalf("awssim exited with %d before serving: %s", code, stderr.String())
			case <-time.After(10 * time.Second):
				t.Fatal("awssim printed no exports within 10s")
			}
			env := stdout.exports()
			if env["AWS_ACCESS_KEY_ID"] != tc.wantKey || env["AWS_REGION"] != "us-east-1" || env["AWS_DEFAULT_REGION"] != "us-east-1" || !strings.HasPrefix(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:") {
				t.Fatalf("exports = %v", env)
			}
			cfg := aws.Config{
				Region:       env["AWS_REGION"],
				BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
				Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
			}
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || aws.ToString(id.Account) != tc.wantMgmt {
				t.Fatalf("GetCallerIdentity = %v, %v", id, err)
			}
			total := 0
			p := organizations.NewListAccountsPaginator(organizations.NewFromConfig(cfg), &organizations.ListAccountsInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				total += len(page.Accounts)
			}
			if total != tc.wantAccounts {
				t.Fatalf("listed %d accounts, want %d", total, tc.wantAccounts)
			}

			cancel()
			select {
			case code := <-done:
				if code != exitOK {
					t.Fatalf("exit code %d after cancel, want 0; stderr: %s", code, stderr.String())
				}
			case <-time.After(5 * time.Second):
				t.Fatal("awssim did not stop within 5s of cancel")
			}
		})
	}
}
