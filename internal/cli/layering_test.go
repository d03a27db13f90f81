package cli

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTheCommandLineCallsNoAWSServiceOfItsOwn: the scan pipeline is
// pkg/orgscan's; the command line turns flags into its Config and the
// report into outputs. Only S3, where reports go and baselines come from,
// is the command line's, through internal/sink's regional client.
func TestTheCommandLineCallsNoAWSServiceOfItsOwn(t *testing.T) {
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if service, ok := strings.CutPrefix(p, "github.com/aws/aws-sdk-go-v2/service/"); ok && service != "s3" {
				t.Errorf("%s imports %s: AWS calls of the scan belong in pkg/", path, p)
			}
		}
	}
}

// TestTheLibraryImportsNothingInternal: pkg/ is what a Go program embeds,
// and internal/ (the command line, its sinks, the simulator) is one user
// of it. Go lets any package of the module import internal/, so only this
// test keeps pkg/ from reaching back. Tests may use the simulator.
func TestTheLibraryImportsNothingInternal(t *testing.T) {
	var files int
	err := filepath.WalkDir(filepath.Join("..", "..", "pkg"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		files++
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/orgscan/orgscan/internal/") {
				t.Errorf("%s imports %s: the library must not depend on the command line's packages", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatal("found no source file under pkg/: the walk looked in the wrong place")
	}
}
