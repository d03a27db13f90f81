package main

// .goreleaser.yaml is the one definition of how a release binary is built.
// These tests read it: they check its structure (CI cannot afford to build
// GoReleaser itself), build orgscan with its flags, and check that the
// binary and its reports name the build.

import (
	"bytes"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

var reproducible = flag.Bool("reproducible", false,
	"build a release target twice from clean clones of HEAD and compare the binaries (slow: one build has a cold cache)")

// repoRoot is the module root, two levels above this package.
const repoRoot = "../.."

// versionVar is the variable release builds set by linker flag.
const versionVar = "github.com/orgscan/orgscan/internal/cli.version"

type releaseConfig struct {
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID           string   `yaml:"id"`
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		ModTimestamp string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		Files []struct {
			Src  string `yaml:"src"`
			Info struct {
				MTime string `yaml:"mtime"`
			} `yaml:"info"`
		} `yaml:"files"`
		BuildsInfo struct {
			MTime string `yaml:"mtime"`
		} `yaml:"builds_info"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	SBOMs []struct {
		Artifacts string   `yaml:"artifacts"`
		Cmd       string   `yaml:"cmd"`
		Env       []string `yaml:"env"`
		Args      []string `yaml:"args"`
		Documents []string `yaml:"documents"`
	} `yaml:"sboms"`
	DockersV2 []struct {
		IDs        []string          `yaml:"ids"`
		Dockerfile string            `yaml:"dockerfile"`
		Platforms  []string          `yaml:"platforms"`
		BuildArgs  map[string]string `yaml:"build_args"`
	} `yaml:"dockers_v2"`
}

func loadReleaseConfig(t *testing.T) releaseConfig {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatalf("read the release configuration: %v", err)
	}
	var cfg releaseConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("parse .goreleaser.yaml: %v", err)
	}
	if len(cfg.Builds) != 1 || len(cfg.Archives) != 1 || len(cfg.SBOMs) != 1 || len(cfg.DockersV2) != 1 {
		t.Fatalf("want one build, archive, sbom and dockers_v2 entry; got %d, %d, %d, %d",
			len(cfg.Builds), len(cfg.Archives), len(cfg.SBOMs), len(cfg.DockersV2))
	}
	return cfg
}

func TestReleaseConfiguration(t *testing.T) {
	cfg := loadReleaseConfig(t)
	b, a, s, d := cfg.Builds[0], cfg.Archives[0], cfg.SBOMs[0], cfg.DockersV2[0]
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, d.Dockerfile))
	if err != nil {
		t.Fatalf("read the image's Dockerfile: %v", err)
	}
	toolsMod, err := os.ReadFile(filepath.Join(repoRoot, "tools", "go.mod"))
	if err != nil {
		t.Fatalf("read the tools module: %v", err)
	}
	var targets []string
	for _, goos := range b.Goos {
		for _, goarch := range b.Goarch {
			targets = append(targets, goos+"/"+goarch)
		}
	}
	slices.Sort(targets)
	ldflags := strings.Join(b.Ldflags, " ")
	var files []string
	for _, f := range a.Files {
		files = append(files, f.Src)
	}

	tests := []struct {
		name string
		ok   bool
		got  any
	}{
		{"it builds this command", b.Main == "./cmd/orgscan" && b.Binary == "orgscan", b.Main + " " + b.Binary},
		{"it builds linux, darwin and windows on amd64 and arm64",
			slices.Equal(targets, []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}), targets},
		{"binaries are static", slices.Contains(b.Env, "CGO_ENABLED=0"), b.Env},
		{"paths are trimmed and the commit is stamped whatever GOFLAGS says",
			slices.Contains(b.Flags, "-trimpath") && slices.Contains(b.Flags, "-buildvcs=true"), b.Flags},
		{"the version comes by linker flag", strings.Contains(ldflags, "-X "+versionVar+"={{ .Version }}"), ldflags},
		{"no build date makes builds of a commit differ", !strings.Contains(ldflags, ".Date") && !strings.Contains(ldflags, ".Now"), ldflags},
		{"file times come from the commit",
			b.ModTimestamp == "{{ .CommitTimestamp }}" && a.BuildsInfo.MTime == "{{ .CommitDate }}", b.ModTimestamp + " " + a.BuildsInfo.MTime},
		{"archives are tar.gz, zip on windows",
			slices.Equal(a.Formats, []string{"tar.gz"}) && len(a.FormatOverrides) == 1 &&
				a.FormatOverrides[0].Goos == "windows" && slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}), a},
		{"archives carry the README and the LICENSE", slices.Contains(files, "README.md") && slices.Contains(files, "LICENSE"), files},
		{"archives carry completion scripts that the before hooks make with this command",
			completionsReleased(cfg.Before.Hooks, files), []any{files, cfg.Before.Hooks}},
		{"checksums are SHA-256", cfg.Checksum.Algorithm == "sha256" && cfg.Checksum.NameTemplate != "", cfg.Checksum},
		{"each archive gets a CycloneDX SBOM of this command for its platform",
			s.Artifacts == "archive" && s.Cmd == "cyclonedx-gomod" && slices.Contains(s.Args, "app") &&
				slices.Contains(s.Args, "cmd/orgscan") && slices.Contains(s.Env, "GOOS={{ .Os }}") && slices.Contains(s.Env, "GOARCH={{ .Arch }}"), s},
		{"the SBOM tool and GoReleaser come from the tools module",
			bytes.Contains(toolsMod, []byte("github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod")) &&
				bytes.Contains(toolsMod, []byte("github.com/goreleaser/goreleaser/v2")), "tools/go.mod"},
		{"the image is built from the root Dockerfile's release stage",
			d.Dockerfile == "Dockerfile" && d.BuildArgs["ORGSCAN_BINARY"] == "release" &&
				bytes.Contains(dockerfile, []byte("AS binary-release")) &&
				bytes.Contains(dockerfile, []byte("COPY $TARGETPLATFORM/orgscan ")), d},
		{"the image holds only linux binaries the build makes",
			len(d.Platforms) > 0 && !slices.ContainsFunc(d.Platforms, func(p string) bool {
				return !strings.HasPrefix(p, "linux/") || !slices.Contains(targets, p)
			}), d.Platforms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf(".goreleaser.yaml does not hold: %+v", tt.got)
			}
		})
	}
	for _, f := range files {
		if strings.HasPrefix(f, completionsDir+"/") {
			continue // made by the before hooks
		}
		if _, err := os.Stat(filepath.Join(repoRoot, f)); err != nil {
			t.Errorf("archive file %s: %v", f, err)
		}
	}
}

// completionsDir holds the completion scripts the release makes.
const completionsDir = "completions"

// completionFile is a shell's completion script in the archives.
type completionFile struct{ shell, path string }

var completionShells = []completionFile{
	{"bash", completionsDir + "/orgscan.bash"},
	{"zsh", completionsDir + "/orgscan.zsh"},
	{"fish", completionsDir + "/orgscan.fish"},
	{"powershell", completionsDir + "/orgscan.ps1"},
}

// hook is the before hook that writes the script.
func (c completionFile) hook() string {
	return fmt.Sprintf(`sh -c "go run ./cmd/orgscan completion %s > %s"`, c.shell, c.path)
}

// completionsReleased says whether the hooks make every shell's script,
// after making their directory, and the archives carry each one.
func completionsReleased(hooks, files []string) bool {
	mkdir := slices.Index(hooks, "mkdir -p "+completionsDir)
	for _, c := range completionShells {
		if i := slices.Index(hooks, c.hook()); i < 0 || i < mkdir || mkdir < 0 || !slices.Contains(files, c.path) {
			return false
		}
	}
	return true
}

func TestDockerfileIsStaticAndUnprivileged(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatalf("read the Dockerfile: %v", err)
	}
	var stages []string
	var user string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "FROM" {
			stages = append(stages, line)
		}
		if after, ok := strings.CutPrefix(line, "USER "); ok {
			user = strings.TrimSpace(after)
		}
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"the image is built on scratch: no shell, no package manager",
			len(stages) > 0 && stages[len(stages)-1] == "FROM scratch"},
		{"it runs as a numeric non-root user",
			regexp.MustCompile(`^[1-9][0-9]*:[1-9][0-9]*$`).MatchString(user)},
		{"a source build is static and path-free",
			bytes.Contains(data, []byte("CGO_ENABLED=0")) && bytes.Contains(data, []byte("-trimpath"))},
		{"a source build sets the same version variable as a release",
			bytes.Contains(data, []byte("-X "+versionVar+"="))},
		{"the binary comes from the source or the release stage by build argument",
			bytes.Contains(data, []byte("ARG ORGSCAN_BINARY=source")) &&
				bytes.Contains(data, []byte("AS binary-source")) &&
				bytes.Contains(data, []byte("FROM binary-${ORGSCAN_BINARY} AS binary"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("the Dockerfile does not hold (stages %q, user %q)", stages, user)
			}
		})
	}
}

// releaseBuild builds orgscan in dir (a module root) for goos/goarch with
// the release configuration's environment, flags and linker flags.
func releaseBuild(t *testing.T, cfg releaseConfig, dir, goos, goarch, version, out string, env ...string) {
	t.Helper()
	b := cfg.Builds[0]
	ldflags := strings.ReplaceAll(strings.Join(b.Ldflags, " "), "{{ .Version }}", version)
	args := append([]string{"build"}, b.Flags...)
	args = append(args, "-ldflags="+ldflags, "-o", out, b.Main)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(append(os.Environ(), b.Env...), "GOOS="+goos, "GOARCH="+goarch), env...)
	if outb, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, outb)
	}
}

func gitOutput(t *testing.T, dir string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err == nil
}

func readBuildInfo(t *testing.T, bin string) *debug.BuildInfo {
	t.Helper()
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatalf("read build information of %s: %v", bin, err)
	}
	return bi
}

func setting(bi *debug.BuildInfo, key string) string {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

// TestReportNamesTheBuild builds orgscan as a release is built and checks
// that `version -f json` and a report's orgscan_version say what the build
// information in the binary says.
func TestReportNamesTheBuild(t *testing.T) {
	head, ok := gitOutput(t, repoRoot, "rev-parse", "HEAD")
	if !ok {
		t.Skip("not a git checkout: the build records no commit to compare")
	}
	cfg := loadReleaseConfig(t)
	bin := filepath.Join(t.TempDir(), "orgscan")
	releaseBuild(t, cfg, repoRoot, runtime.GOOS, runtime.GOARCH, "9.8.7-test", bin)

	bi := readBuildInfo(t, bin)
	revision, modified := setting(bi, "vcs.revision"), setting(bi, "vcs.modified")
	if revision != head {
		t.Fatalf("the build recorded commit %q, want HEAD %s", revision, head)
	}
	want := "9.8.7-test+" + revision[:12]
	if modified == "true" {
		want += ".dirty"
	}
	var sdk string
	for _, d := range bi.Deps {
		if d.Path == "github.com/aws/aws-sdk-go-v2" {
			sdk = d.Version
		}
	}

	var v struct {
		Version    string  `json:"version"`
		Report     string  `json:"report_version"`
		Commit     *string `json:"commit"`
		Modified   *bool   `json:"modified"`
		CommitTime *string `json:"commit_time"`
		GoVersion  string  `json:"go_version"`
		Modules    []struct {
			Path, Version string
		} `json:"sdk_modules"`
	}
	out, err := exec.Command(bin, "version", "-f", "json").Output()
	if err != nil {
		t.Fatalf("orgscan version -f json: %v", err)
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("orgscan version -f json is not JSON: %v\n%s", err, out)
	}
	// demo ends 3 or 4 (its world has unscannable accounts and findings);
	// the report on stdout is what counts.
	out, _ = exec.Command(bin, "demo", "-f", "json").Output()
	var report struct {
		Scan struct {
			Version string `json:"orgscan_version"`
		} `json:"scan"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("orgscan demo -f json is not JSON: %v\n%.500s", err, out)
	}

	sdkShown := slices.ContainsFunc(v.Modules, func(m struct{ Path, Version string }) bool {
		return m.Path == "github.com/aws/aws-sdk-go-v2" && m.Version == sdk
	})
	tests := []struct {
		name      string
		got, want any
	}{
		{"the report's orgscan_version names the version and the commit", report.Scan.Version, want},
		{"version -f json gives the same report version", v.Report, want},
		{"the linker flag's version is the version", v.Version, "9.8.7-test"},
		{"the commit is the recorded vcs.revision", deref(v.Commit), revision},
		{"the modified flag is the recorded vcs.modified", fmt.Sprint(deref(v.Modified)), modified},
		{"the commit time is the recorded vcs.time", deref(v.CommitTime), setting(bi, "vcs.time")},
		{"the Go version is the toolchain's", v.GoVersion, bi.GoVersion},
		{"the AWS SDK's version is the one compiled in", sdkShown, sdk != ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestReleaseBuildIsReproducible builds one release target from two clean
// clones of HEAD in different directories, the second with an empty build
// cache, and wants byte-identical binaries. It runs with -reproducible
// (CI does: .ci/run).
func TestReleaseBuildIsReproducible(t *testing.T) {
	if !*reproducible {
		t.Skip("run with -reproducible: it compiles everything once without a cache")
	}
	cfg := loadReleaseConfig(t)
	head, ok := gitOutput(t, repoRoot, "rev-parse", "HEAD")
	if !ok {
		t.Fatal("not a git checkout: there is no commit to build twice")
	}
	tmp := t.TempDir()
	var sums [2][32]byte
	for i, name := range []string{"first", "second"} {
		clone := filepath.Join(tmp, name, "orgscan")
		if out, ok := gitOutput(t, repoRoot, "clone", "--quiet", "--no-hardlinks", ".", clone); !ok {
			t.Fatalf("clone HEAD into %s: %s", clone, out)
		}
		bin := filepath.Join(tmp, name+".bin")
		var env []string
		if i == 1 {
			env = append(env, "GOCACHE="+filepath.Join(tmp, "cache"))
		}
		releaseBuild(t, cfg, clone, "linux", "arm64", "1.0.0-repro", bin, env...)
		bi := readBuildInfo(t, bin)
		if rev := setting(bi, "vcs.revision"); rev != head {
			t.Fatalf("%s build recorded commit %q, want HEAD %s", name, rev, head)
		}
		if mod := setting(bi, "vcs.modified"); mod != "false" {
			t.Fatalf("%s build of a clean clone recorded vcs.modified=%s", name, mod)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		sums[i] = sha256.Sum256(data)
		t.Logf("%s build: linux/arm64 sha256 %x (%d bytes)", name, sums[i], len(data))
	}
	if sums[0] != sums[1] {
		t.Errorf("two builds of %s differ: %x and %x", head, sums[0], sums[1])
	}
}
