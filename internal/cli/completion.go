package cli

import (
	"github.com/spf13/cobra"
)

// completionShells are the shells `orgscan completion` writes scripts for.
var completionShells = enum{"bash", "zsh", "fish", "powershell"}

// newCmdCompletion is `orgscan completion SHELL`. The scripts cobra
// generates ask the binary itself (its hidden __complete command) what to
// offer, so they complete what the installed version's flag definitions
// say: subcommands, flags and the values of enumerated flags.
func newCmdCompletion(root *cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion SHELL",
		Short: "print the shell completion script: " + completionShells.String(),
		Long: `Prints the completion script for bash, zsh, fish or powershell. To load it
in every new shell:

  bash        orgscan completion bash > ~/.local/share/bash-completion/completions/orgscan
              (needs the bash-completion package)
  zsh         orgscan completion zsh > "${fpath[1]}/_orgscan"
              (with compinit in ~/.zshrc)
  fish        orgscan completion fish > ~/.config/fish/completions/orgscan.fish
  powershell  orgscan completion powershell >> $PROFILE

Release archives carry the scripts in completions/.
`,
		ValidArgs:             completionShells,
		DisableFlagsInUseLine: true, // it has none but --help
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) != 1:
				return usagef("give one shell: %s (see `orgscan completion --help`)", completionShells)
			case !completionShells.has(args[0]):
				return usagef("unknown shell %q: use %s", truncate(args[0], 32), completionShells)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, true)
			case "zsh":
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, true)
			default:
				return root.GenPowerShellCompletionWithDesc(w)
			}
		},
	}
	configure(cmd)
	// ValidArgs offers the shells; configure's default would offer nothing.
	cmd.ValidArgsFunction = nil
	return cmd
}
