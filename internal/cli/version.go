package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// version is set by release builds:
//
//	go build -ldflags "-X github.com/orgscan/orgscan/internal/cli.version=v1.2.3"
//
// Everything else about the build comes from the build information the Go
// toolchain records in the binary, so a report can be traced to its commit.
var version string

// sdkModulePrefixes select the dependencies that `orgscan version` lists:
// the AWS SDK's modules and the smithy runtime they are built on.
var sdkModulePrefixes = []string{"github.com/aws/aws-sdk-go-v2", "github.com/aws/smithy-go"}

// buildInfo says which build of orgscan is running. Unknown values are null
// in JSON: `go run` and `go test` record no commit.
type buildInfo struct {
	// Version is the release version (linker flag), else the module version
	// the toolchain recorded, else "dev".
	Version string `json:"version"`
	// Report is what reports carry as orgscan_version: the version with
	// the commit and a modified mark as semver build metadata.
	Report string  `json:"report_version"`
	Commit *string `json:"commit"`
	// CommitSource is "build", or "checkout" when the binary recorded no
	// commit and it was read from its source checkout at run time.
	CommitSource string     `json:"commit_source,omitempty"`
	Modified     *bool      `json:"modified"`
	CommitTime   *time.Time `json:"commit_time"`
	GoVersion    string     `json:"go_version"`
	OS           string     `json:"os"`
	Arch         string     `json:"arch"`
	Modules      []module   `json:"sdk_modules"`
}

type module struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	// ReplacedBy names a replace directive's target, which is what was
	// compiled in.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Version is the build's version as reports record it (orgscan_version):
// the release or module version and, when the toolchain recorded one, the
// commit and whether the tree was modified.
func Version() string {
	return readBuildInfo().Report
}

func readBuildInfo() buildInfo {
	bi, _ := debug.ReadBuildInfo()
	b := newBuildInfo(bi, version)
	if b.Commit == nil {
		if c, ok := checkoutCommit(); ok {
			b.Commit, b.CommitSource = &c, commitFromCheckout
			b.Report = reportVersion(b)
		}
	}
	return b
}

// Where a buildInfo's commit comes from.
const (
	commitFromBuild    = "build"    // recorded in the binary by the toolchain
	commitFromCheckout = "checkout" // read from the source checkout at run time (go run)
)

// newBuildInfo reads bi (nil when the binary carries none) and the linker
// flag's version into a buildInfo.
func newBuildInfo(bi *debug.BuildInfo, linkerVersion string) buildInfo {
	b := buildInfo{Version: linkerVersion, GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}
	if bi == nil {
		if b.Version == "" {
			b.Version = "dev"
		}
		b.Report = b.Version
		return b
	}
	b.GoVersion = bi.GoVersion
	if b.Version == "" {
		// Since Go 1.24 `go build` in a checkout records a tag or a
		// pseudo-version, with "+dirty" for a modified tree: the modified
		// flag is reported on its own.
		b.Version = strings.TrimSuffix(bi.Main.Version, "+dirty")
	}
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "dev"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit, b.CommitSource = &s.Value, commitFromBuild
		case "vcs.modified":
			modified := s.Value == "true"
			b.Modified = &modified
		case "vcs.time":
			if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
				b.CommitTime = &t
			}
		case "GOOS":
			b.OS = s.Value
		case "GOARCH":
			b.Arch = s.Value
		}
	}
	for _, d := range bi.Deps {
		if !isSDKModule(d.Path) {
			continue
		}
		m := module{Path: d.Path, Version: d.Version}
		if d.Replace != nil {
			m.ReplacedBy = strings.TrimSpace(d.Replace.Path + " " + d.Replace.Version)
		}
		b.Modules = append(b.Modules, m)
	}
	b.Report = reportVersion(b)
	return b
}

func isSDKModule(path string) bool {
	for _, p := range sdkModulePrefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// reportVersion appends the short commit and a modified mark to the version
// as semver build metadata (v1.2.3+0123456789ab.dirty). A pseudo-version
// already names the commit, so it only gets the mark.
func reportVersion(b buildInfo) string {
	var meta []string
	if b.Commit != nil {
		short := *b.Commit
		if len(short) > 12 {
			short = short[:12]
		}
		if !strings.Contains(b.Version, short) {
			meta = append(meta, short)
		}
	}
	if b.Modified != nil && *b.Modified {
		meta = append(meta, "dirty")
	}
	if len(meta) == 0 {
		return b.Version
	}
	return b.Version + "+" + strings.Join(meta, ".")
}

// versionFormats are `orgscan version -f`'s formats.
var versionFormats = enum{"text", "json"}

// versionOptions are the flags of `orgscan version`.
type versionOptions struct {
	Format string
}

// newCmdVersion is `orgscan version`. runF, when not nil, receives the
// parsed options instead.
func newCmdVersion(env *runEnv, runF func(*versionOptions) error) *cobra.Command {
	o := &versionOptions{}
	cmd := &cobra.Command{
		Use:   "version",
		Short: "print the version",
		Long: `Prints the version, the commit the binary was built from and whether the
tree had uncommitted changes, the commit time, the Go version and the AWS SDK
module versions.
`,
		Args: noArgs("the command takes only -f"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !versionFormats.has(o.Format) {
				return usagef("unknown format %q: use -f text or -f json", o.Format)
			}
			if runF != nil {
				return runF(o)
			}
			return exited(versionRun(*env, o.Format))
		},
	}
	configure(cmd)
	d := newFlagDefs(cmd)
	d.stringFlag(&o.Format, "format", "f", "F", "text", versionFormats.String()+" (default text)").oneOf(versionFormats)
	return cmd
}

// versionRun prints the build information and returns the exit status.
func versionRun(env runEnv, format string) int {
	b := readBuildInfo()
	switch format {
	case "text":
		writeBuildInfo(env.streams.Out, b)
	case "json":
		enc := json.NewEncoder(env.streams.Out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(b); err != nil {
			fmt.Fprintf(env.streams.ErrOut, "orgscan version: writing the version: %v\n", err)
			return exitFatal
		}
	}
	return exitOK
}

func writeBuildInfo(w io.Writer, b buildInfo) {
	fmt.Fprintf(w, "orgscan %s\n", b.Report)
	switch {
	case b.Commit == nil:
		// `go run` and `go test` do not stamp version control information;
		// neither does a build with -buildvcs=false (also from GOFLAGS).
		fmt.Fprintln(w, "commit:      unknown (not recorded in this build: use go build, or go run -buildvcs=true)")
	case b.CommitSource == commitFromCheckout:
		fmt.Fprintf(w, "commit:      %s (read from the source checkout at run time: go run records none; uncommitted changes unknown)\n", *b.Commit)
	case b.Modified != nil && *b.Modified:
		fmt.Fprintf(w, "commit:      %s (with uncommitted changes)\n", *b.Commit)
	default:
		fmt.Fprintf(w, "commit:      %s\n", *b.Commit)
	}
	if b.CommitTime != nil {
		fmt.Fprintf(w, "commit time: %s\n", b.CommitTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "go:          %s %s/%s\n", b.GoVersion, b.OS, b.Arch)
	label := "aws sdk:    "
	for _, m := range b.Modules {
		line := m.Path + " " + m.Version
		if m.ReplacedBy != "" {
			line += " => " + m.ReplacedBy
		}
		fmt.Fprintf(w, "%s %s\n", label, line)
		label = "            "
	}
}
