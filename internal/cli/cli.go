// Package cli is orgscan's command line: flag parsing, wiring of the scan
// pipeline and the mapping of outcomes to exit statuses. The library
// packages under pkg/ know nothing of flags or exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

const rootHelp = "orgscan: audit the root user of every account in an AWS Organization.\n"

// exitStatusHelp ends `orgscan help`.
const exitStatusHelp = `Exit status:
  0    complete: every account scanned (and no findings, with --fail-on-findings)
  1    fatal: no credentials, cannot list the organization, upload failed
  2    bad usage or input (remediate: an unconfirmed --apply, a refused plan)
  3    incomplete: some accounts could not be scanned (the report says which)
       (remediate: a deletion failed or a credential remains)
  4    findings at or above --fail-severity and --fail-on-findings set
       (diff: new findings)
  130  interrupted: the partial report was written, marked incomplete
`

// Main runs orgscan and returns its exit status.
func Main(ctx context.Context, args []string, st *Streams) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// After the first interrupt, a second one ends the process the
		// default way instead of waiting for the report to be written.
		<-ctx.Done()
		stop()
	}()
	return run(ctx, runEnv{streams: st, now: time.Now, version: Version()}, args)
}

// run runs a command line without installing signal handlers.
func run(ctx context.Context, env runEnv, args []string) int {
	if len(args) > 0 && args[0] == "--version" {
		// An alias of the command, with its flags: --version -f json.
		args = append([]string{"version"}, args[1:]...)
	}
	root := newCmdRoot(&env)
	// cobra reads os.Args when given nil.
	root.SetArgs(append([]string{}, args...))
	cmd, err := root.ExecuteContextC(ctx)
	// Bad usage, with a long flag given one dash: that is the likely cause,
	// whatever it was read as (-format json is -f ormat).
	var ue *usageError
	if errors.As(err, &ue) {
		if name := singleDashFlag(cmd, args); name != "" {
			err = usagef("-%s is not a flag: a long flag takes two dashes, use --%s", name, name)
		}
	}
	return commandStatus(env.streams.ErrOut, cmd, err)
}

// commandStatus reports err, if the command has not already, and returns
// the exit status.
func commandStatus(w io.Writer, cmd *cobra.Command, err error) int {
	if err == nil {
		return exitOK
	}
	var done reportedStatus
	if errors.As(err, &done) {
		return int(done)
	}
	name := "orgscan"
	if cmd != nil {
		name = cmd.CommandPath()
	}
	reportError(w, name, err)
	return exitCode(err)
}

// reportedStatus ends a command that has reported its outcome itself, with
// this exit status.
type reportedStatus int

func (e reportedStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exited turns a command's exit status into what cobra returns.
func exited(code int) error {
	if code == exitOK {
		return nil
	}
	return reportedStatus(code)
}

// singleDashFlag finds a long flag of cmd given with one dash, as Go's own
// flag package, which orgscan parsed with before, allowed: pflag reads
// -quiet as -q -u -i -e -t, and its error would not say why.
func singleDashFlag(cmd *cobra.Command, args []string) string {
	if cmd == nil {
		return ""
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if len(name) > 1 && cmd.Flags().Lookup(name) != nil {
				return name
			}
		}
	}
	return ""
}

// newCmdRoot is `orgscan`: its subcommands in the order help lists them.
func newCmdRoot(env *runEnv) *cobra.Command {
	root := &cobra.Command{
		Use: "orgscan",
		// The completion command is ours, to list it and word its help.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetOut(env.streams.Out)
	root.SetErr(env.streams.ErrOut)
	root.SetIn(env.streams.In)
	configure(root)
	cmds := []*cobra.Command{newCmdScan(env, nil), newCmdRemediate(env, nil), newCmdDemo(env, nil), newCmdDiff(env, nil), newCmdVersion(env, nil)}
	cmds = append(cmds, newCmdCompletion(root))
	root.AddCommand(cmds...)
	var names []string
	for _, c := range cmds {
		names = append(names, c.Name())
	}
	unknown := func(name string) error {
		return usagef("unknown command %q: use %s (see `orgscan help`)", name, enum(names))
	}
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return unknown(args[0])
		}
		return nil
	}
	help := &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "the usage, or a command's flags",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || len(args) == 1 && args[0] != "help" && !slices.Contains(names, args[0]) {
				return unknown(strings.Join(args, " "))
			}
			return nil
		},
		ValidArgs:             names,
		DisableFlagsInUseLine: true,
		Run: func(cmd *cobra.Command, args []string) {
			target := root
			if len(args) == 1 {
				target, _, _ = root.Find(args)
			}
			target.HelpFunc()(target, nil)
		},
	}
	configure(help)
	help.ValidArgsFunction = nil // ValidArgs offers the commands
	root.SetHelpCommand(help)
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		writeRootHelp(cmd.ErrOrStderr(), cmds)
		return reportedStatus(exitUsage)
	}
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { writeRootHelp(cmd.OutOrStdout(), cmds) })
	return root
}

// configure makes a command report its own errors, as one line that
// names the input and the fix, and print help from its flag definitions.
func configure(cmd *cobra.Command) {
	cmd.SilenceErrors = true
	cmd.SilenceUsage = true
	cmd.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see `%s --help`)", err, cmd.CommandPath())
	})
	cmd.SetHelpFunc(commandHelp)
	if cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = cobra.NoFileCompletions
	}
}

// writeRootHelp is `orgscan help`: the commands, generated from their
// definitions, and the exit statuses.
func writeRootHelp(w io.Writer, cmds []*cobra.Command) {
	fmt.Fprintf(w, "%s\nUsage:\n", rootHelp)
	column := 0
	for _, c := range cmds {
		column = max(column, len(c.UseLine())+1)
	}
	for _, c := range cmds {
		writeColumns(w, c.UseLine(), column, c.Short)
	}
	fmt.Fprintf(w, "\nRun 'orgscan COMMAND --help' for the flags of a command.\n\n%s", exitStatusHelp)
}
