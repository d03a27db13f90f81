package cli

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTheCommandLineCallsNoAWSServiceOfItsOwn: the scan pipeline is
// pkg/orgscan's; the command line turns flags into its Config and the
// report into outputs. Only S3, where reports go and baselines come from,
// is the command line's, through pkg/output's regional client.
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
