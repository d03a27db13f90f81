package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/spf13/cobra"
)

// newCmdDemoRemediate is `orgscan demo remediate`: remediate against the
// built-in simulated organization, which manages root credentials centrally
// and has root keys and certificates to delete. Each run starts the world
// afresh, so --apply deletes nothing for good; a plan saved by one run
// (--out plan.json) can be applied by the next (--apply --plan plan.json),
// the two-person flow in miniature. runF, when not nil, receives the parsed
// options instead.
func newCmdDemoRemediate(env *runEnv, runF func(*remediateOptions) error) *cobra.Command {
	o := &remediateOptions{}
	cmd := &cobra.Command{
		Use:   "remediate",
		Short: "remediate against the built-in simulated AWS",
		Long: `The same remediate against a built-in simulated AWS organization, started
afresh for each run: without --apply it shows the plan; with --apply --yes it
deletes in the simulator and prints the evidence.
`,
		Args: noArgs("demo remediate takes only flags"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.complete(cmd.Flags(), env.streams); err != nil {
				return err
			}
			if o.EndpointURL != "" || o.Profile != "" {
				return usagef("--endpoint-url and --profile do not apply: the demo runs against its own simulator (use `orgscan remediate` for a real organization)")
			}
			if runF != nil {
				return runF(o)
			}
			return exited(demoRemediateRun(cmd.Context(), *env, o, cmd.CommandPath()))
		},
	}
	configure(cmd)
	addRemediateFlags(cmd, o)
	return cmd
}

// demoRemediateRun runs remediate against the demo world and returns its
// exit status.
func demoRemediateRun(ctx context.Context, env runEnv, o *remediateOptions, name string) int {
	simCtx, stopSim := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSim()
	srv, admin, err := startDemoSimulator(simCtx, env.now())
	if err != nil {
		fmt.Fprintf(env.streams.ErrOut, "%s: %v\n", name, err)
		return exitFatal
	}
	defer srv.Close()
	o.EndpointURL = srv.URL()
	env.credentials = credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, "")
	return runRemediate(ctx, env, o, name)
}
