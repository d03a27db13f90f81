package cli

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

const testCommit = "bc8cb4ec69738c9302bfe71ad797266e60d2c064"

// stamped is the build information `go build` records in a git checkout.
func stamped(mainVersion, modified string, deps ...*debug.Module) *debug.BuildInfo {
	return &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/orgscan/orgscan", Version: mainVersion},
		Deps:      deps,
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"},
			{Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: testCommit},
			{Key: "vcs.time", Value: "2026-12-01T00:54:55Z"},
			{Key: "vcs.modified", Value: modified},
		},
	}
}

func TestReportVersionNamesTheBuild(t *testing.T) {
	tests := []struct {
		name          string
		bi            *debug.BuildInfo
		linkerVersion string
		want          string
	}{
		{"a release build adds the commit to the linker flag's version",
			stamped("v1.2.3", "false"), "1.2.3", "1.2.3+bc8cb4ec6973"},
		{"a release build from a modified tree says so",
			stamped("v1.2.3+dirty", "true"), "1.2.3", "1.2.3+bc8cb4ec6973.dirty"},
		{"go build at a tag uses the tag the toolchain recorded",
			stamped("v1.2.3", "false"), "", "v1.2.3+bc8cb4ec6973"},
		{"go build between tags keeps the pseudo-version, which already names the commit",
			stamped("v0.0.0-20261201005455-bc8cb4ec6973", "false"), "", "v0.0.0-20261201005455-bc8cb4ec6973"},
		{"go build of a modified tree marks the pseudo-version once",
			stamped("v0.0.0-20261201005455-bc8cb4ec6973+dirty", "true"), "", "v0.0.0-20261201005455-bc8cb4ec6973+dirty"},
		{"go run records no commit and is a dev build",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/orgscan/orgscan", Version: "(devel)"}}, "", "dev"},
		{"go install of a module version has no checkout to stamp",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/orgscan/orgscan", Version: "v1.2.3"}}, "", "v1.2.3"},
		{"a binary without build information is a dev build", nil, "", "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newBuildInfo(tt.bi, tt.linkerVersion).Report; got != tt.want {
				t.Errorf("report version = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildInfoListsTheSDKModules(t *testing.T) {
	bi := stamped("v1.2.3", "false",
		&debug.Module{Path: "github.com/aws/aws-sdk-go-v2", Version: "v1.48.0"},
		&debug.Module{Path: "github.com/aws/aws-sdk-go-v2/service/iam", Version: "v1.66.0"},
		&debug.Module{Path: "github.com/aws/smithy-go", Version: "v1.28.9", Replace: &debug.Module{Path: "../smithy-go"}},
		&debug.Module{Path: "github.com/aws/aws-sdk-go-v2-fork", Version: "v0.1.0"},
		&debug.Module{Path: "golang.org/x/sync", Version: "v0.25.0"},
	)
	got := newBuildInfo(bi, "1.2.3")
	want := []module{
		{Path: "github.com/aws/aws-sdk-go-v2", Version: "v1.48.0"},
		{Path: "github.com/aws/aws-sdk-go-v2/service/iam", Version: "v1.66.0"},
		{Path: "github.com/aws/smithy-go", Version: "v1.28.9", ReplacedBy: "../smithy-go"},
	}
	if len(got.Modules) != len(want) {
		t.Fatalf("modules = %+v, want %+v", got.Modules, want)
	}
	for i := range want {
		if got.Modules[i] != want[i] {
			t.Errorf("module %d = %+v, want %+v", i, got.Modules[i], want[i])
		}
	}
	if got.OS != "linux" || got.Arch != "arm64" || got.GoVersion != "go1.26.8" {
		t.Errorf("platform = %s/%s %s, want the recorded linux/arm64 go1.26.8", got.OS, got.Arch, got.GoVersion)
	}
	if got.CommitTime == nil || got.CommitTime.Format("2006-01-02T15:04:05Z07:00") != "2026-12-01T00:54:55Z" {
		t.Errorf("commit time = %v, want the recorded vcs.time", got.CommitTime)
	}
}

func TestVersionTextSaysWhatRan(t *testing.T) {
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want []string
	}{
		{"a stamped build shows the full commit and its time",
			stamped("v1.2.3", "false", &debug.Module{Path: "github.com/aws/aws-sdk-go-v2", Version: "v1.48.0"}),
			[]string{"orgscan 1.2.3+bc8cb4ec6973\n", "commit:      " + testCommit + "\n", "commit time: 2026-12-01T00:54:55Z\n",
				"go:          go1.26.8 linux/arm64\n", "aws sdk:     github.com/aws/aws-sdk-go-v2 v1.48.0\n"}},
		{"a modified tree is named",
			stamped("v1.2.3+dirty", "true"),
			[]string{"commit:      " + testCommit + " (with uncommitted changes)\n"}},
		{"an unstamped build says how to get the commit",
			&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			[]string{"orgscan 1.2.3\n", "commit:      unknown (not recorded in this build: use go build, or go run -buildvcs=true)\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			writeBuildInfo(&out, newBuildInfo(tt.bi, "1.2.3"))
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestVersionCommand(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		check    func(t *testing.T, stdout string)
	}{
		{"version -f json is a JSON object naming the Go version and the report version", []string{"version", "-f", "json"}, exitOK,
			func(t *testing.T, stdout string) {
				var b buildInfo
				if err := json.Unmarshal([]byte(stdout), &b); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, stdout)
				}
				if b.GoVersion == "" || b.Report != Version() {
					t.Errorf("go_version %q, report_version %q, want set and %q", b.GoVersion, b.Report, Version())
				}
			}},
		{"--version prints the text form", []string{"--version"}, exitOK,
			func(t *testing.T, stdout string) {
				if !strings.HasPrefix(stdout, "orgscan "+Version()+"\n") {
					t.Errorf("stdout = %q", stdout)
				}
			}},
		{"an unknown format is bad usage", []string{"version", "-f", "yaml"}, exitUsage, nil},
		{"an argument is bad usage", []string{"version", "extra"}, exitUsage, nil},
		{"help is not an error", []string{"version", "--help"}, exitOK,
			func(t *testing.T, stdout string) {
				if !strings.Contains(stdout, "-f, --format") {
					t.Errorf("help = %q", stdout)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, out, errOut := Test()
			code := run(t.Context(), runEnv{streams: st, version: "test"}, tt.args)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.wantCode, errOut.String())
			}
			if tt.wantCode == exitUsage && !strings.Contains(errOut.String(), "orgscan version: ") {
				t.Errorf("stderr = %q, want one line naming the command", errOut.String())
			}
			if tt.check != nil {
				tt.check(t, out.String())
			}
		})
	}
}
