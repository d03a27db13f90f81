package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
)

// newCmdDemo is `orgscan demo`: the very same scan against the simulator,
// started in-process with the example organization; every scan flag
// applies. runF, when not nil, receives the parsed options instead.
func newCmdDemo(env *runEnv, runF func(*scanOptions) error) *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "the same scan against a built-in simulated AWS\n(demo remediate: the same remediation)",
		Args:  noArgs("demo takes only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(cmd.Flags()); err != nil {
				return err
			}
			if o.EndpointURL != "" || o.Profile != "" {
				return usagef("--endpoint-url and --profile do not apply: the demo runs against its own simulator (use `orgscan scan` for a real organization)")
			}
			if runF != nil {
				return runF(o)
			}
			return exited(demoRun(cmd.Context(), *env, o))
		},
	}
	configure(cmd)
	addScanFlags(cmd, o)
	cmd.AddCommand(newCmdDemoRemediate(env, nil))
	return cmd
}

// demoRun runs the demo and returns its exit status.
func demoRun(ctx context.Context, env runEnv, o *scanOptions) int {
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	srv, admin, err := startDemoSimulator(simCtx, env.now())
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan demo: %v\n", err)
		return exitFatal
	}
	defer srv.Close()
	o.EndpointURL = srv.URL()
	env.credentials = credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, "")
	return runScan(ctx, env, o)
}

// startDemoSimulator serves the example organization on loopback under
// credentials made up for this run. The example's own keys are published
// with orgscan: any local user could otherwise find the port and use them
// to plant what the demo reads (a baseline, say).
func startDemoSimulator(ctx context.Context, now time.Time) (*awssim.Server, awssim.StaticCredential, error) {
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		return nil, awssim.StaticCredential{}, fmt.Errorf("the built-in world is invalid: %w", err)
	}
	fx.Shift(now.Sub(examples.DemoWorldAsOf()))
	for i := range fx.Credentials {
		id, secret, err := randomKeys()
		if err != nil {
			return nil, awssim.StaticCredential{}, err
		}
		fx.Credentials[i].AccessKeyID, fx.Credentials[i].SecretAccessKey = id, secret
	}
	admin, err := fx.ManagementCredential()
	if err != nil {
		return nil, awssim.StaticCredential{}, fmt.Errorf("the built-in world: %w", err)
	}
	srv, err := awssim.Start(ctx, awssim.Options{Fixture: fx})
	if err != nil {
		return nil, awssim.StaticCredential{}, fmt.Errorf("start the simulator: %w", err)
	}
	return srv, admin, nil
}

// randomKeys makes an access key pair in IAM's shapes: an AKIA id of
// sixteen base-32 characters and a forty-character secret.
func randomKeys() (id, secret string, err error) {
	b := make([]byte, 10+30)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("generate the demo's credentials: %w", err)
	}
	id = "AKIA" + base32.StdEncoding.EncodeToString(b[:10])
	secret = base64.StdEncoding.EncodeToString(b[10:])
	return id, secret, nil
}
