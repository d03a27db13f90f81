package orgscan_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// flagLike is a command-line flag inside a string: --name, not a CSS
// custom property (var(--name)) or a decrement.
var flagLike = regexp.MustCompile(`(^|[\s("'\x60])--[a-z][a-z-]*`)

// TestNoLibraryMessageNamesAFlag: pkg/ is a library; its messages say what
// is wrong in its own and AWS's terms, and only the command line, which
// has the flags, words advice about them (scan.Hint).
func TestNoLibraryMessageNamesAFlag(t *testing.T) {
	fset := token.NewFileSet()
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if m := flagLike.FindString(lit.Value); m != "" {
					t.Errorf("%s: a library string names the flag %s: return a scan.Hint, or say it in the library's terms", fset.Position(lit.Pos()), strings.TrimLeft(m, " (\"'\x60"))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
