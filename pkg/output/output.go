// Package output renders a scan — one scan.Row per account and the
// scan.Report around them — as a terminal table, CSV, JSON, NDJSON or a
// self-contained HTML audit report.
//
// A Writer is used in two phases. Rows are handed to WriteRow as accounts
// complete: NDJSON writes each one at once, so `orgscan -f ndjson | jq`
// sees accounts while the scan runs. Then Close receives the complete
// report, which is the single source of truth for the buffered formats
// (table, CSV, JSON, HTML): they ignore streamed rows and render the report's
// accounts sorted by account id, so the output is deterministic given the
// same world and clock.
//
// What a row shows (its cells' text, its severity, its problems) is worked
// out once, in a view that the table, CSV and HTML writers share. Where the
// bytes go is not this package's business: a Writer takes any io.Writer.
package output

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// Format names, as given to --format.
const (
	FormatTable  = "table"
	FormatCSV    = "csv"
	FormatJSON   = "json"
	FormatNDJSON = "ndjson"
	FormatHTML   = "html"
	// One OCSF Detection Finding per finding per account (see ocsf.go).
	FormatOCSF       = "ocsf"
	FormatOCSFNDJSON = "ocsf-ndjson"
)

// Writer renders one scan. It is not safe for concurrent use: the scan
// driver serializes its calls.
type Writer interface {
	// WriteRow is called once per account as it completes. Streaming
	// formats write the row before returning; the others ignore it.
	WriteRow(r *scan.Row) error
	// Close renders the complete report. Streaming formats write only the
	// report's rows that were never passed to WriteRow (for example the
	// not_scanned rows of an interrupted scan), so every account appears
	// exactly once. A Writer cannot be used after Close.
	Close(rep *scan.Report) error
}

// Options shape the rendering.
type Options struct {
	// Details adds the flattened root_credentials columns to the table and
	// CSV. JSON and NDJSON always carry what the rows hold.
	Details bool
	// TagColumns are the account tag keys the table, CSV and HTML show as
	// columns, in this order; the rows hold the tags when the scan read
	// them (scan.OptionsUsed.Tags). The security contact's column comes
	// with a report whose scan read contacts, without asking.
	TagColumns []string
	// Terminal tells that the table goes to a terminal: colour (when Color
	// is also set) and relative times are allowed there, never in a pipe.
	Terminal bool
	// Color enables ANSI colour on a terminal; the caller resolves NO_COLOR.
	Color bool
	// Now is the clock for relative times; time.Now when nil.
	Now func() time.Time
	// Resolved are the findings a baseline had and this scan no longer
	// sees; the ocsf formats close them at Close, the others ignore them.
	Resolved []ResolvedFinding
	// OwnerTag, when set, adds to the HTML report a section that groups
	// the findings by owner: the account's tag of this key, else its
	// security contact (see scan.Row.Owner). The other formats ignore it.
	OwnerTag string
}

// Formats lists the format names New accepts, the default first.
func Formats() []string {
	return []string{FormatTable, FormatCSV, FormatJSON, FormatNDJSON, FormatHTML, FormatOCSF, FormatOCSFNDJSON}
}

// Streams tells whether a format writes each row at WriteRow, so that a
// reader sees accounts while the scan runs.
func Streams(format string) bool { return format == FormatNDJSON || format == FormatOCSFNDJSON }

// New returns a Writer for format that writes to w.
func New(format string, w io.Writer, o Options) (Writer, error) {
	if w == nil {
		return nil, fmt.Errorf("output %q: no destination writer", format)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch format {
	case FormatTable:
		return &tableWriter{w: w, o: o}, nil
	case FormatCSV:
		return &csvWriter{w: w, o: o}, nil
	case FormatJSON:
		return &jsonWriter{w: w}, nil
	case FormatNDJSON:
		return newNDJSONWriter(w), nil
	case FormatHTML:
		return &htmlWriter{w: w, o: o}, nil
	case FormatOCSF, FormatOCSFNDJSON:
		if err := checkResolved(format, o.Resolved); err != nil {
			return nil, err
		}
		if format == FormatOCSF {
			return &ocsfWriter{w: w, resolved: o.Resolved}, nil
		}
		return newOCSFNDJSONWriter(w, o.Resolved), nil
	}
	return nil, fmt.Errorf("unknown format %q: choose one of %s", format, strings.Join(Formats(), ", "))
}

// FormatFromExtension guesses the format from a file name, so that
// `--out report.csv` needs no --format.
func FormatFromExtension(path string) (string, bool) {
	if f, ok := ocsfFromExtension(path); ok {
		return f, true
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return FormatJSON, true
	case ".ndjson", ".jsonl":
		return FormatNDJSON, true
	case ".csv":
		return FormatCSV, true
	case ".txt":
		return FormatTable, true
	case ".html", ".htm":
		return FormatHTML, true
	}
	return "", false
}

// ContentType is the media type of a format, for uploads; "" when the
// format is unknown.
func ContentType(format string) string {
	switch format {
	case FormatTable:
		return "text/plain; charset=utf-8"
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatJSON, FormatOCSF:
		return "application/json"
	case FormatNDJSON, FormatOCSFNDJSON:
		return "application/x-ndjson"
	case FormatHTML:
		return "text/html; charset=utf-8"
	}
	return ""
}

// Extension is the file extension of a format, with its dot; "" when the
// format is unknown.
func Extension(format string) string {
	switch format {
	case FormatTable:
		return ".txt"
	case FormatCSV:
		return ".csv"
	case FormatJSON:
		return ".json"
	case FormatNDJSON:
		return ".ndjson"
	case FormatHTML:
		return ".html"
	case FormatOCSF:
		return ".ocsf.json"
	case FormatOCSFNDJSON:
		return ".ocsf.ndjson"
	}
	return ""
}

// sortedRows is every row of the report at once, by account id. The
// writers do not use it: they take one row at a time from rep.Rows(), so
// that a report whose rows were kept compactly is never decoded whole.
func sortedRows(rep *scan.Report) []*scan.Row {
	rows := rep.Rows()
	return slices.AppendSeq(make([]*scan.Row, 0, rows.Len()), rows.All())
}

// viewOptions are what o asks a row's view to show of rep.
func (o Options) viewOptions(rep *scan.Report) viewOptions {
	return viewOptions{details: o.Details, tagColumns: o.TagColumns, contacts: rep.Scan.Options.Contacts}
}

// closer guards the one-shot Close shared by every writer.
type closer struct{ closed bool }

func (c *closer) begin(format string, rep *scan.Report) error {
	if c.closed {
		return fmt.Errorf("%s output: already closed", format)
	}
	c.closed = true
	if rep == nil {
		return fmt.Errorf("%s output: no report to write", format)
	}
	return nil
}
