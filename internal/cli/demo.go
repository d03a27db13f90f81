package cli

import (
	"bytes"
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
)

// demoCommand runs the very same scan against the simulator, started
// in-process with the example organization: every scan flag applies.
func demoCommand(ctx context.Context, env runEnv, args []string) int {
	o, code, ok := parseOrExit(env, args, "demo")
	if !ok {
		return code
	}
	if o.EndpointURL != "" || o.Profile != "" {
		fmt.Fprintln(env.streams.ErrOut, "orgscan demo: --endpoint-url and --profile do not apply: the demo runs against its own simulator (use `orgscan scan` for a real organization)")
		return exitUsage
	}
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan demo: the built-in world is invalid: %v\n", err)
		return exitFatal
	}
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	srv, err := awssim.Start(simCtx, awssim.Options{Fixture: fx})
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan demo: start the simulator: %v\n", err)
		return exitFatal
	}
	defer srv.Close()
	admin, err := fx.ManagementCredential()
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "orgscan demo: the built-in world: %v\n", err)
		return exitFatal
	}
	o.EndpointURL = srv.URL()
	env.credentials = credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, "")
	return runScan(ctx, env, o)
}
