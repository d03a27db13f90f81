package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestWriteMatchesTheGoldenFiles(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	d := Compare(oldDoc, newDoc)
	identical := Compare(oldDoc, oldDoc)
	for _, tt := range []struct {
		name   string
		d      *Diff
		format string
		golden string
	}{
		{"the quarter as a table", d, OutputTable, "quarter.table.golden"},
		{"the quarter as json", d, OutputJSON, "quarter.json.golden"},
		{"the quarter as markdown", d, OutputMarkdown, "quarter.md.golden"},
		{"identical reports as a table", identical, OutputTable, "identical.table.golden"},
		{"identical reports as markdown", identical, OutputMarkdown, "identical.md.golden"},
		{"hostile strings as a table", Compare(hostile(t)), OutputTable, "hostile.table.golden"},
		{"hostile strings as markdown", Compare(hostile(t)), OutputMarkdown, "hostile.md.golden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tt.d, tt.format); err != nil {
				t.Fatalf("Write: %v", err)
			}
			checkGolden(t, tt.golden, buf.Bytes())
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update %s: %v", path, err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s (run go test -update to create it): %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update and review the change):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	shuffled := *newDoc
	shuffled.Rows = slices.Clone(newDoc.Rows)
	slices.Reverse(shuffled.Rows)
	for _, format := range Formats() {
		t.Run(format+" output does not depend on row order", func(t *testing.T) {
			var a, b bytes.Buffer
			if err := Write(&a, Compare(oldDoc, newDoc), format); err != nil {
				t.Fatal(err)
			}
			if err := Write(&b, Compare(oldDoc, &shuffled), format); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Errorf("output changed with row order")
			}
		})
	}
}

func TestWriteNeutralisesHostileStrings(t *testing.T) {
	d := Compare(hostile(t))

	t.Run("the table holds no control characters", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, d, OutputTable); err != nil {
			t.Fatal(err)
		}
		for i, c := range buf.Bytes() {
			if (c < 0x20 && c != '\n') || c == 0x7f {
				t.Fatalf("control byte %#x at %d", c, i)
			}
		}
		if strings.Contains(buf.String(), "\u202e") || strings.Contains(buf.String(), "[31m") || strings.Contains(buf.String(), "title") {
			t.Error("a bidi override or an escape sequence's remains reached the table")
		}
		for line := range strings.Lines(buf.String()) {
			if strings.HasPrefix(line, "|") {
				t.Errorf("a hostile string forged a line: %q", line)
			}
		}
	})

	t.Run("markdown cells cannot be broken out of", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, d, OutputMarkdown); err != nil {
			t.Fatal(err)
		}
		md := buf.String()
		inChanges := false
		rows := 0
		for line := range strings.Lines(md) {
			line = strings.TrimSuffix(line, "\n")
			if strings.HasPrefix(line, "| Account | Name |") {
				inChanges = true
			}
			if !strings.HasPrefix(line, "|") {
				if inChanges && line != "" {
					t.Errorf("a line inside the changes table does not start a row: %q", line)
				}
				if strings.HasPrefix(line, "- ") && unescapedCount(line, '[')+unescapedCount(line, '<') > 0 {
					t.Errorf("a provenance line has an unescaped link or tag: %q", line)
				}
				continue
			}
			want := 3 // the counts table
			if inChanges {
				want = 5
			}
			if n := unescapedCount(line, '|'); n != want {
				t.Errorf("row has %d cell borders, want %d: %q", n, want, line)
			}
			for _, c := range "`<>*[]&@_" {
				if n := unescapedCount(line, byte(c)); n > 0 {
					t.Errorf("row has %d unescaped %q: %q", n, c, line)
				}
			}
			if strings.Contains(line, "100000000010") {
				rows++
			}
		}
		if rows != 4 {
			t.Errorf("the hostile account has %d rows, want 4 (unverified findings, status, OU, state)", rows)
		}
		if !strings.Contains(md, `Evil \| \<img src=x onerror=alert\(1\)\>`) {
			t.Errorf("the hostile name is not shown escaped:\n%s", md)
		}
	})

	t.Run("json keeps the name exactly as the report had it", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, d, OutputJSON); err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Changes []struct {
				AccountName string `json:"account_name"`
			} `json:"changes"`
		}
		if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if got := doc.Changes[0].AccountName; got != hostileName {
			t.Errorf("name = %q, want %q", got, hostileName)
		}
	})
}

// unescapedCount counts c in s where it is not preceded by an odd number of
// backslashes.
func unescapedCount(s string, c byte) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			continue
		}
		bs := 0
		for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
			bs++
		}
		if bs%2 == 0 {
			n++
		}
	}
	return n
}

func TestWriteJSONHasTheDocumentedShape(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	var buf bytes.Buffer
	if err := Write(&buf, Compare(oldDoc, newDoc), OutputJSON); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := sortedKeysOf(doc); !reflect.DeepEqual(got, []string{"changes", "counts", "new", "old", "schema_version"}) {
		t.Errorf("top-level keys = %v", got)
	}
	if doc["schema_version"] != SchemaVersion {
		t.Errorf("schema_version = %v", doc["schema_version"])
	}
	old, nw := doc["old"].(map[string]any), doc["new"].(map[string]any)
	if old["scan"] == nil || old["format"] != "json" || old["schema_version"] != "1" {
		t.Errorf("old side = %v", old)
	}
	if v, ok := nw["scan"]; !ok || v != nil || nw["schema_version"] != nil || nw["format"] != "ndjson" {
		t.Errorf("an NDJSON side must have a null scan and schema_version: %v", nw)
	}
	counts := doc["counts"].(map[string]any)
	for _, k := range []string{"old_accounts", "new_accounts", "compared", "unchanged", "changed", "joined", "left",
		"with_new_findings", "with_resolved_findings", "with_unverified_findings", "status_changes",
		"coverage_losses", "ou_moves", "state_changes"} {
		if _, ok := counts[k].(float64); !ok {
			t.Errorf("counts.%s = %v, want a number", k, counts[k])
		}
	}
	for _, ch := range doc["changes"].([]any) {
		c := ch.(map[string]any)
		if got := sortedKeysOf(c); !reflect.DeepEqual(got, []string{"account_id", "account_name", "findings_added",
			"findings_resolved", "findings_unverified", "kinds", "ou_path", "state", "status"}) {
			t.Fatalf("change keys = %v", got)
		}
		for _, k := range []string{"kinds", "findings_added", "findings_resolved", "findings_unverified"} {
			if _, ok := c[k].([]any); !ok {
				t.Errorf("%s of %v = %v, want a list", k, c["account_id"], c[k])
			}
		}
	}

	t.Run("an empty diff has an empty changes list, not null", func(t *testing.T) {
		var buf bytes.Buffer
		if err := Write(&buf, Compare(oldDoc, oldDoc), OutputJSON); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"changes": []`) {
			t.Errorf("changes is not []:\n%s", buf.String())
		}
	})

	t.Run("a diff document is refused as a report", func(t *testing.T) {
		_, err := Read(bytes.NewReader(buf.Bytes()))
		if err == nil || !strings.Contains(err.Error(), "this is an orgscan diff") {
			t.Errorf("Read of a diff = %v", err)
		}
	})
}

func sortedKeysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestWriteReportsErrors(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	d := Compare(oldDoc, newDoc)
	t.Run("an unknown format is refused before writing", func(t *testing.T) {
		var buf bytes.Buffer
		err := Write(&buf, d, "html")
		if err == nil || !strings.Contains(err.Error(), `unknown diff format "html"`) || buf.Len() > 0 {
			t.Errorf("Write(html) = %v, wrote %d bytes", err, buf.Len())
		}
		if CheckFormat("html") == nil || CheckFormat("markdown") != nil {
			t.Error("CheckFormat disagrees with Write")
		}
	})
	for _, format := range Formats() {
		t.Run("a failing writer fails the "+format+" output", func(t *testing.T) {
			boom := errors.New("disk full")
			if err := Write(failingWriter{boom}, d, format); !errors.Is(err, boom) {
				t.Errorf("Write = %v, want it to wrap %v", err, boom)
			}
		})
	}
}
