package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// A flag's definition is the one place that says what it is: parsing,
// --help, validation of enumerated values and shell completion all read it.
// Beyond what pflag holds, a flag carries as annotations the help section
// it is listed in and the word that stands for its value.
const (
	annotationSection = "orgscan_section"
	annotationValue   = "orgscan_value"
)

// helpWidth is where a help line too long for its column wraps. Flag
// descriptions set their own line breaks ("\n"), as prose reads best.
const helpWidth = 100

// enum is the closed set of values of an enumerated flag.
type enum []string

func (e enum) has(v string) bool { return slices.Contains(e, v) }

// String lists the values for a sentence: "a, b or c".
func (e enum) String() string {
	if len(e) < 2 {
		return strings.Join(e, "")
	}
	return strings.Join(e[:len(e)-1], ", ") + " or " + e[len(e)-1]
}

// flagDefs defines one command's flags, each in the help section opened
// last.
type flagDefs struct {
	cmd     *cobra.Command
	section string
}

func newFlagDefs(cmd *cobra.Command) *flagDefs {
	cmd.Flags().SortFlags = false // help lists flags as defined
	return &flagDefs{cmd: cmd}
}

// flagDef is a defined flag, refined by the calls that follow.
type flagDef struct {
	values enum // offered by completion
	files  bool // completion offers file names
}

// beginSection starts a help section; "" lists flags without a heading.
func (d *flagDefs) beginSection(title string) { d.section = title }

// add documents the flag just defined and registers its completion, which
// offers its values, file names, or nothing: most flags take a word that no
// file name completes.
func (d *flagDefs) add(name, value string) *flagDef {
	f := d.cmd.Flags().Lookup(name)
	f.Annotations = map[string][]string{annotationSection: {d.section}, annotationValue: {value}}
	def := &flagDef{}
	complete := func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if def.files {
			return nil, cobra.ShellCompDirectiveDefault
		}
		return def.values, cobra.ShellCompDirectiveNoFileComp
	}
	if err := d.cmd.RegisterFlagCompletionFunc(name, complete); err != nil {
		// Only a programming error gets here: a flag defined twice.
		panic(err)
	}
	return def
}

// oneOf makes the flag enumerated: completion offers values.
func (f *flagDef) oneOf(values enum) { f.values = values }

// file makes completion offer file names.
func (f *flagDef) file() { f.files = true }

func (d *flagDefs) stringFlag(p *string, name, short, value, def, usage string) *flagDef {
	d.cmd.Flags().StringVarP(p, name, short, def, usage)
	return d.add(name, value)
}

func (d *flagDefs) intFlag(p *int, name, value string, def int, usage string) *flagDef {
	d.cmd.Flags().IntVar(p, name, def, usage)
	return d.add(name, value)
}

func (d *flagDefs) durationFlag(p *time.Duration, name, value string, def time.Duration, usage string) *flagDef {
	d.cmd.Flags().DurationVar(p, name, def, usage)
	return d.add(name, value)
}

func (d *flagDefs) boolFlag(p *bool, name, short, usage string) *flagDef {
	d.cmd.Flags().BoolVarP(p, name, short, false, usage)
	return d.add(name, "")
}

func (d *flagDefs) valueFlag(v pflag.Value, name, short, value, usage string) *flagDef {
	d.cmd.Flags().VarP(v, name, short, usage)
	return d.add(name, value)
}

// commandHelp is --help of a command: its usage line, its description and
// its flags by section.
func commandHelp(cmd *cobra.Command, _ []string) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Usage: %s\n", cmd.UseLine())
	if cmd.Long != "" {
		fmt.Fprintf(w, "\n%s", cmd.Long)
	}
	if hasDocumentedFlags(cmd.Flags()) {
		fmt.Fprintln(w)
		writeFlags(w, cmd.Flags())
	}
}

func hasDocumentedFlags(fs *pflag.FlagSet) bool {
	found := false
	fs.VisitAll(func(f *pflag.Flag) { found = found || isDocumented(f) })
	return found
}

// isDocumented excludes --help, which cobra adds and every command has.
func isDocumented(f *pflag.Flag) bool {
	_, ok := f.Annotations[annotationSection]
	return ok && !f.Hidden
}

// flagLabel is how help names a flag: "-f, --format F".
func flagLabel(f *pflag.Flag) string {
	label := "--" + f.Name
	if f.Shorthand != "" {
		label = "-" + f.Shorthand + ", " + label
	}
	if v := f.Annotations[annotationValue]; len(v) > 0 && v[0] != "" {
		label += " " + v[0]
	}
	return label
}

// writeFlags lists the documented flags of fs by section, in the order of
// definition, their descriptions in one column wrapped at helpWidth.
func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	var sections []string
	bySection := map[string][]*pflag.Flag{}
	column := 0
	fs.VisitAll(func(f *pflag.Flag) {
		if !isDocumented(f) {
			return
		}
		s := f.Annotations[annotationSection][0]
		if _, ok := bySection[s]; !ok {
			sections = append(sections, s)
		}
		bySection[s] = append(bySection[s], f)
		column = max(column, len(flagLabel(f))+1)
	})
	for i, s := range sections {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if s != "" {
			fmt.Fprintln(w, s)
		}
		for _, f := range bySection[s] {
			writeColumns(w, flagLabel(f), column, f.Usage)
		}
	}
}

// writeColumns writes "  label  text", the further lines of text aligned
// under its first; a line longer than helpWidth wraps.
func writeColumns(w io.Writer, label string, column int, text string) {
	indent := strings.Repeat(" ", 2+column)
	line := "  " + label + strings.Repeat(" ", column-len(label))
	for i, para := range strings.Split(text, "\n") {
		if i > 0 {
			fmt.Fprintln(w, line)
			line = indent
		}
		start := len(line)
		for _, word := range strings.Fields(para) {
			if len(line) > start && len(line)+1+len(word) > helpWidth {
				fmt.Fprintln(w, line)
				line, start = indent, len(indent)
			}
			if len(line) > start {
				line += " "
			}
			line += word
		}
	}
	fmt.Fprintln(w, line)
}
