package diff

import (
	"bytes"
	"errors"
	"testing"

	"github.com/orgscan/orgscan/pkg/output"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic, and whatever
// it accepts must hold up: unique 12-digit account ids, a known format,
// a diff against itself that is empty, and renderings that succeed. The
// seed corpus is in testdata/fuzz/FuzzRead; small limits make the line and
// size checks reachable.
func FuzzRead(f *testing.F) {
	rows := sampleRows()
	f.Add(jsonReport(f, q1, rows, true))
	f.Add(jsonReport(f, q1, rows, false))
	f.Add(ndjsonReport(f, rows))
	f.Add([]byte(`{"schema_version":"2","scan":{},"accounts":[]}`))
	f.Add([]byte(`{"account_id":"111111111111","status":"ok","findings":["root-access-key"]}` + "\r\n\r\n"))

	readers := []reader{{}, {MaxLineBytes: 256, MaxBytes: 4096}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rd := range readers {
			doc, err := rd.Read(bytes.NewReader(data))
			if err != nil {
				if doc != nil {
					t.Fatalf("Read returned a document with error %v", err)
				}
				var se *UnsupportedSchemaError
				if errors.As(err, &se) && se.Version == output.SchemaVersion {
					t.Fatalf("refused the supported version: %v", err)
				}
				continue
			}
			switch doc.Format {
			case FormatJSON:
				if doc.SchemaVersion != output.SchemaVersion || doc.Scan == nil {
					t.Fatalf("JSON document without version or scan block: %+v", doc)
				}
			case FormatNDJSON:
				if doc.SchemaVersion != "" || doc.Scan != nil || len(doc.Rows) == 0 {
					t.Fatalf("NDJSON document with a version, a scan block or no rows: %+v", doc)
				}
			default:
				t.Fatalf("unknown format %q", doc.Format)
			}
			seen := map[string]bool{}
			for _, r := range doc.Rows {
				if !accountIDPattern.MatchString(r.AccountID) || seen[r.AccountID] {
					t.Fatalf("bad or repeated account id %q", r.AccountID)
				}
				seen[r.AccountID] = true
			}
			d := Compare(doc, doc)
			if d.hasChanges() || d.Counts.Unchanged != len(doc.Rows) {
				t.Fatalf("a document differs from itself: %+v", d.Counts)
			}
			against := Compare(nil, doc)
			for _, format := range Formats() {
				if err := Write(discard{}, against, format); err != nil {
					t.Fatalf("write %s: %v", format, err)
				}
			}
			// Whatever the report holds, the markdown per owner stays
			// markdown that Write writes.
			var md bytes.Buffer
			if err := WriteWith(&md, against, OutputMarkdown, WriteOptions{OwnerTag: "owner"}); err != nil {
				t.Fatalf("write markdown by owner: %v", err)
			}
			if p := markdownProblems(md.String()); len(p) > 0 {
				t.Fatalf("markdown problems: %q", p)
			}
		}
	})
}
