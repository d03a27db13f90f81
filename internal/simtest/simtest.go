// Package simtest starts the simulator for tests and benchmarks and points
// the real SDK clients at it, wired as orgscan wires them, with the
// management account's credentials.
package simtest

import (
	"context"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
)

// World is a running simulator and the clients of its management account.
type World struct {
	Server  *awssim.Server
	Fixture *awssim.Fixture
	assume.Clients
	Caller assume.Caller
}

// Start serves fx with opts until the test ends. concurrency sizes the
// HTTP connection pool, as --concurrency does.
func Start(tb testing.TB, fx *awssim.Fixture, opts awssim.Options, concurrency int) *World {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts.Fixture = fx
	srv, err := awssim.Start(ctx, opts)
	if err != nil {
		cancel()
		tb.Fatalf("start the simulator: %v", err)
	}
	tb.Cleanup(func() { cancel(); srv.Close() })
	admin, err := fx.ManagementCredential()
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Region: "us-east-1", EndpointURL: srv.URL(), Concurrency: concurrency,
		Credentials: credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, ""),
	})
	if err != nil {
		tb.Fatalf("load the SDK configuration: %v", err)
	}
	w := &World{Server: srv, Fixture: fx, Clients: assume.NewClients(cfg)}
	w.Caller, err = assume.Identify(ctx, w.STS)
	if err != nil {
		tb.Fatalf("identify the caller: %v", err)
	}
	return w
}

// ProcessEnv is a clean environment for a program run as a child process:
// nothing of the caller's AWS setup, the management account's keys of fx,
// and the simulator at url as its endpoint.
func ProcessEnv(tb testing.TB, fx *awssim.Fixture, url string) []string {
	tb.Helper()
	cred, err := fx.ManagementCredential()
	if err != nil {
		tb.Fatal(err)
	}
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + tb.TempDir(),
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + cred.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + cred.SecretAccessKey,
		"AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL=" + url,
	}
}
