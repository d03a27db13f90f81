package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
)

// TestNDJSONFilesStream: an NDJSON file takes rows as they complete and is
// put in place whole when the scan ends; a scan that ends without a report
// leaves no file behind, not even a temporary one.
func TestNDJSONFilesStream(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	t.Run("every account is in the file once, with the hint worded as a flag", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.ndjson")
		res := s.run(t, "scan", "-q", "--out", path, "--out", filepath.Join(dir, "copy.ndjson"))
		if res.code != exitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var ids []string
		advice := false
		for _, name := range []string{"r.ndjson", "copy.ndjson"} {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			lines := bufio.NewScanner(f)
			lines.Buffer(nil, 1<<20)
			ids = ids[:0]
			for lines.Scan() {
				var row struct {
					AccountID string  `json:"account_id"`
					Error     *string `json:"error"`
				}
				if err := json.Unmarshal(lines.Bytes(), &row); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				ids = append(ids, row.AccountID)
				advice = advice || row.Error != nil && strings.HasSuffix(*row.Error, "(use --include-inactive to try)")
			}
			checkEveryAccountOnce(t, s.fx, ids)
		}
		if !advice {
			t.Error("the suspended account's row does not say how to try it")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 2 {
			t.Errorf("the directory holds %d entries, want the two reports", len(entries))
		}
	})
	t.Run("a scan that fails before any row leaves no file", func(t *testing.T) {
		dir := t.TempDir()
		res := s.run(t, "scan", "-q", "--ou", "ou-zzzz-zzzzzzzz", "--out", filepath.Join(dir, "r.ndjson"))
		if res.code != exitUsage {
			t.Fatalf("exit %d, want %d: %s", res.code, exitUsage, res.stderr)
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			t.Errorf("the failed scan left %v", slices.Sorted(slices.Values(names)))
		}
	})
}
