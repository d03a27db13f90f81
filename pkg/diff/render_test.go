package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func TestWriteMatchesTheGoldenFiles(t *testing.T) {
	oldDoc, newDoc := quarter(t)
	d := Compare(oldDoc, newDoc)
	identical := Compare(oldDoc, oldDoc)
	byTag := WriteOptions{OwnerTag: "owner"}
	for _, tt := range []struct {
		name   string
		d      *Diff
		format string
		o      WriteOptions
		golden string
	}{
		{"the quarter as a table", d, OutputTable, WriteOptions{}, "quarter.table.golden"},
		{"the quarter as json", d, OutputJSON, WriteOptions{}, "quarter.json.golden"},
		{"the quarter as markdown, owners by security contact", d, OutputMarkdown, WriteOptions{}, "quarter.md.golden"},
		{"the quarter as markdown, owners by tag", d, OutputMarkdown, byTag, "quarter.owner.md.golden"},
		{"the owner tag changes neither table nor json", d, OutputJSON, byTag, "quarter.json.golden"},
		{"identical reports as a table", identical, OutputTable, WriteOptions{}, "identical.table.golden"},
		{"identical reports as markdown", identical, OutputMarkdown, byTag, "identical.md.golden"},
		{"hostile strings as a table", Compare(hostile(t)), OutputTable, WriteOptions{}, "hostile.table.golden"},
		{"hostile strings as markdown", Compare(hostile(t)), OutputMarkdown, WriteOptions{}, "hostile.md.golden"},
		{"hostile strings as markdown, owners by tag", Compare(hostile(t)), OutputMarkdown, byTag, "hostile.owner.md.golden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteWith(&buf, tt.d, tt.format, tt.o); err != nil {
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

	for _, o := range []WriteOptions{{}, {OwnerTag: "owner"}} {
		t.Run(fmt.Sprintf("markdown cannot be broken out of, with owner tag %q", o.OwnerTag), func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteWith(&buf, d, OutputMarkdown, o); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			for _, p := range markdownProblems(md) {
				t.Error(p)
			}
			rows := 0
			for line := range strings.Lines(md) {
				if strings.HasPrefix(line, "| 100000000010 |") {
					rows++
				}
			}
			if rows != 4 {
				t.Errorf("the hostile account has %d rows, want 4 (unverified findings, status, OU, state)", rows)
			}
			for _, want := range []string{
				`Evil \| \<img src=x onerror=alert\(1\)\>`,
				"- **- \\[x\\] done** (100000000012)", // not a nested task list
				"- **code** (100000000013)",           // not an indented code block
			} {
				if !strings.Contains(md, want) {
					t.Errorf("the markdown lacks %q:\n%s", want, md)
				}
			}
			wantOwner := `### \*\@evil\.example  - \[ \] \<img src=x onerror=alert\(1\)\>`
			if o.OwnerTag != "" {
				wantOwner = "### payments \\# pwned \\<script\\>alert\\(1\\)\\</script\\> \\[x\\]\\(javascript\\:alert\\(1\\)\\) \\| cell \\| \\`code\\` \\_em\\_ \\#"
			}
			if !strings.Contains(md, wantOwner+"\n") {
				t.Errorf("the hostile owner is not a heading of its own, escaped: want %q in\n%s", wantOwner, md)
			}
		})
	}

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

// Lines of the markdown document, by what they hold: the parts a report
// controls are the groups.
var (
	mdTitle      = regexp.MustCompile(`^## (orgscan diff.*)$`)
	mdSide       = regexp.MustCompile(`^- \*\*(?:Old|New):\*\* (.*)$`)
	mdHeading    = regexp.MustCompile(`^### (.*)$`)
	mdOwnerRule  = regexp.MustCompile(`^An account's owner is (?:the value of its tag \*\*(.*)\*\*; without that tag, its security contact; without either|its security contact; without one), unowned\.$`)
	mdAccount    = regexp.MustCompile(`^- (?:\*\*(.*)\*\* \((.*)\)|([0-9]{12}))(?:, joined the organization|: (.*))?$`)
	mdFinding    = regexp.MustCompile(`^  - \*\*(?:[a-z]+|unknown severity)\*\* (.*)$`)
	mdFixedLines = []string{
		`An owner that reads "unknown" could not be read: the account may have one.`,
		"No account below has tags in these reports, so none is grouped by its tag: were their tags read?",
		"No new, resolved or unverified findings.",
	}
	mdListIntro = regexp.MustCompile(`^(?:New findings|Resolved|Unverified) \([0-9]+\)(?:, not read this time, so these may still be there)?:$`)
	mdNoChanges = regexp.MustCompile(`^No changes: [0-9]+ accounts in both reports, all unchanged\.$`)
)

// markdownProblems lists every line of a diff's markdown that is not one
// Write writes, and every part a report controls that holds an unescaped
// character that could start markup, or space where emphasis must hug it.
func markdownProblems(md string) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	plain := func(line, part string) {
		for _, c := range "`<>*[]&@_|#" {
			if n := unescapedCount(part, byte(c)); n > 0 {
				add("%d unescaped %q in %q of line %q", n, c, part, line)
			}
		}
	}
	hugged := func(line, part string) {
		plain(line, part)
		if part != strings.TrimSpace(part) || part == "" {
			add("emphasis around space or nothing in line %q", line)
		}
	}
	for i, c := range md {
		if (c < 0x20 && c != '\n') || c == 0x7f || c == '\u202e' {
			add("control character %U at byte %d", c, i)
		}
	}
	borders := 0 // of the table being read; 0 outside one
	for line := range strings.Lines(md) {
		line = strings.TrimSuffix(line, "\n")
		if strings.HasPrefix(line, "|") {
			n := unescapedCount(line, '|')
			if borders == 0 {
				borders = n
			}
			if n != borders {
				add("table row has %d cell borders, want %d: %q", n, borders, line)
			}
			for _, cell := range strings.Split(strings.Trim(line, "|"), " | ") {
				plain(line, cell)
			}
			continue
		}
		borders = 0
		var m []string
		switch {
		case line == "", line == "---", slices.Contains(mdFixedLines, line), mdListIntro.MatchString(line), mdNoChanges.MatchString(line):
		case mdTitle.MatchString(line):
			// → is the title's own arrow.
			plain(line, mdTitle.FindStringSubmatch(line)[1])
		case mdSide.MatchString(line):
			// schema_version is the side's own word, its underscore inside it.
			plain(line, strings.Replace(mdSide.FindStringSubmatch(line)[1], "schema_version", "", 1))
		case mdHeading.MatchString(line):
			plain(line, mdHeading.FindStringSubmatch(line)[1])
		case mdOwnerRule.MatchString(line):
			if tag := mdOwnerRule.FindStringSubmatch(line)[1]; tag != "" {
				hugged(line, tag)
			}
		case mdFinding.MatchString(line):
			plain(line, mdFinding.FindStringSubmatch(line)[1])
		default:
			if m = mdAccount.FindStringSubmatch(line); m == nil {
				add("a line Write does not write: %q", line)
				continue
			}
			if m[1] != "" {
				hugged(line, m[1])
			}
			plain(line, m[2])
			plain(line, m[4])
		}
	}
	return problems
}

// The checker must catch what it guards against, or the tests that use it
// prove nothing.
func TestMarkdownProblemsCatchesBrokenMarkup(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteWith(&buf, Compare(quarter(t)), OutputMarkdown, WriteOptions{OwnerTag: "owner"}); err != nil {
		t.Fatal(err)
	}
	clean := buf.String()
	if p := markdownProblems(clean); len(p) > 0 {
		t.Fatalf("the quarter's markdown has problems: %v", p)
	}
	for _, tc := range []struct{ name, from, to, want string }{
		{"a forged table row", "| 100000000002 | Payments |", "| 100000000002 | Pay | ments |", "cell borders"},
		{"a heading that starts a list", "### payments-team", "### payments-team\n- x", "a line Write does not write"},
		{"raw HTML in a heading", "### payments-team", "### <b>payments</b>", "unescaped '<'"},
		{"an unescaped link in a name", "**Payments**", "**[Pay](x)**", "unescaped '['"},
		{"emphasis around a space", "**Payments**", "** Payments**", "emphasis around space"},
		{"a control character", "Payments", "Pay\x1b[2Jments", "control character U+001B"},
	} {
		t.Run("it catches "+tc.name, func(t *testing.T) {
			bad := strings.Replace(clean, tc.from, tc.to, 1)
			if bad == clean {
				t.Fatalf("%q is not in the markdown", tc.from)
			}
			if !slices.ContainsFunc(markdownProblems(bad), func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("no problem containing %q in %q", tc.want, markdownProblems(bad))
			}
		})
	}
}
