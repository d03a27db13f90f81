package diff

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"

	"github.com/orgscan/orgscan/pkg/scan"
)

// ReportSchemaVersion is the only report schema_version this package reads.
// A report of any other version is refused rather than guessed at.
const ReportSchemaVersion = "1"

// Document formats, as detected by Read.
const (
	FormatJSON   = "json"   // one JSON document with a scan block
	FormatNDJSON = "ndjson" // one account row per line, no scan block
	FormatScan   = "scan"   // built in memory from a scan that just ran
)

// Default limits of Read.
const (
	DefaultMaxLineBytes = 1 << 20 // one NDJSON row
	DefaultMaxBytes     = 1 << 30 // a whole input, either format
)

// Document is one report, whichever format it came in.
type Document struct {
	// SchemaVersion is the report's schema_version; empty for NDJSON,
	// which carries none.
	SchemaVersion string
	// Format is FormatJSON, FormatNDJSON or FormatScan.
	Format string
	// Source names where the report came from (a path or an s3:// URL).
	// Read leaves it empty because it only sees a stream; the caller sets it
	// so that the diff's provenance says which file was which.
	Source string
	// Scan is the report's provenance; nil for NDJSON.
	Scan *scan.Meta
	// Rows are the accounts in input order; account ids are unique.
	Rows []scan.Row
}

// FromReport wraps a report held in memory (for example the scan that just
// ran, compared against a baseline) without a round trip through JSON.
func FromReport(r *scan.Report) *Document {
	meta := r.Scan
	return &Document{
		SchemaVersion: ReportSchemaVersion,
		Format:        FormatScan,
		Scan:          &meta,
		Rows:          r.Accounts,
	}
}

// UnsupportedSchemaError refuses a report whose schema_version this package
// does not know: its fields may mean something else, so it is never read.
type UnsupportedSchemaError struct {
	Version string
}

func (e *UnsupportedSchemaError) Error() string {
	v := e.Version
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("unsupported report schema_version %q: this orgscan reads schema_version %q only; compare it with an orgscan release that reads it",
		v, ReportSchemaVersion)
}

// TooLargeError reports an input or a line beyond Reader's limits.
type TooLargeError struct {
	// Line is the offending NDJSON line, or 0 when the whole input is too
	// large.
	Line  int
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: longer than %d bytes; an account row is far smaller, so this is not an orgscan NDJSON report", e.Line, e.Limit)
	}
	return fmt.Sprintf("input larger than %d bytes", e.Limit)
}

// Reader reads reports with explicit limits; the zero value uses the
// defaults.
type Reader struct {
	MaxLineBytes int   // an NDJSON line; 0 means DefaultMaxLineBytes
	MaxBytes     int64 // the whole input; 0 means DefaultMaxBytes
}

// Read reads a JSON or NDJSON report with the default limits.
func Read(r io.Reader) (*Document, error) {
	return Reader{}.Read(r)
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Read detects the format from the content: the first value must be a JSON
// object; with a schema_version key it is a JSON report, with an account_id
// key the first row of an NDJSON report. File names are never consulted, so
// a report read from S3 or stdin behaves the same.
func (rd Reader) Read(r io.Reader) (*Document, error) {
	maxLine := rd.MaxLineBytes
	if maxLine <= 0 {
		maxLine = DefaultMaxLineBytes
	}
	maxBytes := rd.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	br := bufio.NewReaderSize(&limitReader{r: r, left: maxBytes, limit: maxBytes}, 64<<10)

	line, err := skipLeadingSpace(br)
	if err != nil {
		return nil, err
	}

	// The decoder reads the first value whole. For a JSON report that is the
	// document; for NDJSON it is the first row, and its size is checked
	// against the line limit right after.
	rec := &lineRecorder{r: br}
	dec := json.NewDecoder(rec)
	var first json.RawMessage
	if err := dec.Decode(&first); err != nil {
		return nil, decodeError(err, func(off int64) int { return line + rec.newlinesBefore(off) }, rec.pos)
	}
	lineAt := func(off int64) int { return line + rec.newlinesBefore(off) }

	fields, err := objectFields(first, lineAt)
	if err != nil {
		return nil, err
	}
	switch {
	case fields.has("changes") && fields.has("counts") && !fields.has("accounts"):
		return nil, fmt.Errorf("line %d: this is an orgscan diff, not a report; compare the reports it was made from", line)
	case fields.has("schema_version") && !fields.has("account_id"):
		if err := expectEnd(dec, lineAt); err != nil {
			return nil, err
		}
		return readReport(fields, lineAt)
	case fields.has("account_id"):
		// A row may carry its own schema_version; parseRow checks it.
		if bytes.IndexByte(first, '\n') >= 0 {
			return nil, fmt.Errorf("line %d: the account row spans several lines; NDJSON needs one row per line", line)
		}
		if len(first) > maxLine {
			return nil, &TooLargeError{Line: line, Limit: int64(maxLine)}
		}
		return readNDJSON(first, io.MultiReader(dec.Buffered(), br), line, maxLine)
	default:
		return nil, fmt.Errorf("line %d: not an orgscan report: a JSON report has a schema_version key and an NDJSON row an account_id key; this object has neither", line)
	}
}

// skipLeadingSpace consumes an optional byte order mark and white space, and
// leaves the reader on the first '{'. It returns the line that byte is on.
func skipLeadingSpace(br *bufio.Reader) (int, error) {
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		if _, err := br.Discard(len(utf8BOM)); err != nil {
			return 0, readError(err)
		}
	}
	line := 1
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return 0, errors.New("empty input: neither a JSON report nor NDJSON rows")
		}
		if err != nil {
			return 0, readError(err)
		}
		switch c {
		case '\n':
			line++
			continue
		case ' ', '\t', '\r':
			continue
		case '{':
			if err := br.UnreadByte(); err != nil {
				return 0, readError(err)
			}
			return line, nil
		}
		hint := ""
		if c == '[' {
			hint = " (an array is not an orgscan report)"
		} else if c >= 0x20 && c < 0x7f {
			hint = " (CSV and table output cannot be compared; use -f json or -f ndjson)"
		}
		return 0, fmt.Errorf("line %d: expected a JSON object, found %q%s", line, rune(c), hint)
	}
}

// readReport reads a JSON report whose top-level keys have been split out.
// The schema version is checked before anything else is interpreted.
func readReport(fields topFields, lineAt func(int64) int) (*Document, error) {
	sv := fields.get("schema_version")
	var version string
	if err := json.Unmarshal(sv.raw, &version); err != nil {
		return nil, fmt.Errorf("line %d: schema_version must be a string such as %q, found %q",
			lineAt(sv.off), ReportSchemaVersion, truncate(string(sv.raw), 64))
	}
	if version != ReportSchemaVersion {
		return nil, &UnsupportedSchemaError{Version: version}
	}

	doc := &Document{SchemaVersion: version, Format: FormatJSON}

	sc := fields.get("scan")
	if sc == nil || isNull(sc.raw) {
		return nil, errors.New("the report has no scan block; a schema_version 1 report always has one")
	}
	if sc.raw[0] != '{' {
		return nil, fmt.Errorf("line %d: scan must be an object", lineAt(sc.off))
	}
	var meta scan.Meta
	if err := json.Unmarshal(sc.raw, &meta); err != nil {
		return nil, fmt.Errorf("line %d: scan block: %w", errorLine(err, sc.off, lineAt), err)
	}
	doc.Scan = &meta

	acc := fields.get("accounts")
	if acc == nil {
		return nil, errors.New("the report has no accounts list")
	}
	if acc.raw[0] != '[' {
		return nil, fmt.Errorf("line %d: accounts must be a list", lineAt(acc.off))
	}
	// Walk the list element by element so that every error names the line
	// its account starts on.
	dec := json.NewDecoder(bytes.NewReader(acc.raw))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("line %d: accounts: %w", lineAt(acc.off), err)
	}
	seen := map[string]int{}
	for i := 1; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("line %d: accounts: %w", lineAt(acc.off+dec.InputOffset()), err)
		}
		start := acc.off + dec.InputOffset() - int64(len(raw))
		ln := lineAt(start)
		row, err := parseRow(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: account %d: %w", errorLine(err, start, lineAt), i, err)
		}
		if prev, dup := seen[row.AccountID]; dup {
			return nil, fmt.Errorf("line %d: account %s is listed twice (first on line %d)", ln, row.AccountID, prev)
		}
		seen[row.AccountID] = ln
		doc.Rows = append(doc.Rows, row)
	}
	return doc, nil
}

// readNDJSON reads the first row (already decoded) and then the rest line by
// line, holding one line at a time.
func readNDJSON(first []byte, rest io.Reader, line, maxLine int) (*Document, error) {
	doc := &Document{Format: FormatNDJSON}
	seen := map[string]int{}
	add := func(raw []byte, ln int) error {
		row, err := parseRow(raw)
		if err != nil {
			return fmt.Errorf("line %d: %w", ln, err)
		}
		if prev, dup := seen[row.AccountID]; dup {
			return fmt.Errorf("line %d: account %s is listed twice (first on line %d)", ln, row.AccountID, prev)
		}
		seen[row.AccountID] = ln
		doc.Rows = append(doc.Rows, row)
		return nil
	}
	if err := add(first, line); err != nil {
		return nil, err
	}

	tr := &errTracker{r: rest}
	sc := bufio.NewScanner(tr)
	// A scanner hands out the unterminated tail of its buffer when the
	// reader fails; that tail is half a row, so report the failure instead.
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		if atEOF && tr.err != nil && bytes.IndexByte(data, '\n') < 0 {
			return 0, nil, tr.err
		}
		return bufio.ScanLines(data, atEOF)
	})
	// Room for the line, a CR and the LF; the exact limit is checked below.
	sc.Buffer(make([]byte, 0, min(maxLine+2, 64<<10)), maxLine+2)
	// The first token is whatever follows the first row on its line.
	firstTail := true
	for sc.Scan() {
		b := sc.Bytes()
		if firstTail {
			firstTail = false
			if len(bytes.TrimSpace(b)) > 0 {
				return nil, fmt.Errorf("line %d: unexpected data after the account row; NDJSON needs one row per line", line)
			}
			continue
		}
		line++
		if len(b) > maxLine {
			return nil, &TooLargeError{Line: line, Limit: int64(maxLine)}
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if err := add(b, line); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			next := line + 1
			if firstTail {
				next = line
			}
			return nil, &TooLargeError{Line: next, Limit: int64(maxLine)}
		}
		return nil, readError(err)
	}
	return doc, nil
}

// parseRow decodes and checks one account row.
func parseRow(raw []byte) (scan.Row, error) {
	// A row that names its schema version is held to it like a report.
	var in struct {
		scan.Row
		SchemaVersion *string `json:"schema_version"`
	}
	if len(raw) == 0 || raw[0] != '{' {
		return in.Row, fmt.Errorf("expected an account object, found %q", truncate(string(raw), 32))
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return in.Row, fmt.Errorf("invalid JSON: %w", err)
		}
		return in.Row, err
	}
	if in.SchemaVersion != nil && *in.SchemaVersion != ReportSchemaVersion {
		return in.Row, &UnsupportedSchemaError{Version: *in.SchemaVersion}
	}
	row := in.Row
	if row.AccountID == "" {
		return row, errors.New("not an account row: no account_id")
	}
	if !accountIDPattern.MatchString(row.AccountID) {
		return row, fmt.Errorf("account_id %q is not a 12-digit AWS account id", truncate(row.AccountID, 32))
	}
	switch row.Status {
	case scan.StatusOK, scan.StatusError, scan.StatusSkipped, scan.StatusNotScanned:
	default:
		return row, fmt.Errorf("account %s: status %q is not one of %s, %s, %s, %s", row.AccountID,
			truncate(row.Status, 32), scan.StatusOK, scan.StatusError, scan.StatusSkipped, scan.StatusNotScanned)
	}
	for _, f := range row.Findings {
		if f == "" {
			return row, fmt.Errorf("account %s: findings holds an empty name", row.AccountID)
		}
	}
	return row, nil
}

// topField is one top-level value and its offset in the document.
type topField struct {
	raw json.RawMessage
	off int64
}

type topFields map[string]*topField

func (f topFields) has(k string) bool      { return f[k] != nil }
func (f topFields) get(k string) *topField { return f[k] }

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// truncate shortens s to n runes so that an error message stays readable
// whatever the input holds.
func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// objectFields splits a JSON object into its top-level keys. A key given
// twice is refused: decoders disagree on which one wins, and a report must
// mean one thing.
func objectFields(obj []byte, lineAt func(int64) int) (topFields, error) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("line %d: %w", lineAt(0), err)
	}
	fields := topFields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(dec.InputOffset()), err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("line %d: expected an object key", lineAt(dec.InputOffset()))
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("line %d: %w", lineAt(dec.InputOffset()), err)
		}
		off := dec.InputOffset() - int64(len(raw))
		if fields.has(key) {
			return nil, fmt.Errorf("line %d: key %q appears twice", lineAt(off), truncate(key, 32))
		}
		fields[key] = &topField{raw: raw, off: off}
	}
	return fields, nil
}

// expectEnd refuses anything but white space after a JSON report, such as a
// second report concatenated to the first.
func expectEnd(dec *json.Decoder, lineAt func(int64) int) error {
	end := dec.InputOffset()
	_, err := dec.Token()
	if errors.Is(err, io.EOF) {
		return nil
	}
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	return fmt.Errorf("line %d: unexpected data after the report that ends on line %d", lineAt(dec.InputOffset()), lineAt(end-1))
}

// decodeError names the line of a JSON error in the first value.
func decodeError(err error, lineAt func(int64) int, read int64) error {
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: invalid JSON: %w", lineAt(max(se.Offset-1, 0)), err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("line %d: input ends inside a JSON value (truncated report?)", lineAt(read))
	}
	return readError(err)
}

// errorLine finds the line of an unmarshal error inside a value that starts
// at base.
func errorLine(err error, base int64, lineAt func(int64) int) int {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return lineAt(base + te.Offset)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return lineAt(base + se.Offset)
	}
	return lineAt(base)
}

func readError(err error) error {
	var tl *TooLargeError
	if errors.As(err, &tl) {
		return tl
	}
	return fmt.Errorf("read report: %w", err)
}

// limitReader fails with TooLargeError, rather than a silent EOF that would
// look like a truncated report, once more than limit bytes are offered.
type limitReader struct {
	r           io.Reader
	left, limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		n, err := io.ReadFull(l.r, one[:])
		if n > 0 {
			return 0, &TooLargeError{Limit: l.limit}
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// errTracker remembers a read failure other than the end of the input.
type errTracker struct {
	r   io.Reader
	err error
}

func (e *errTracker) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// lineRecorder remembers where the newlines are in what the first decoder
// reads, so that an offset can be turned into a line number.
type lineRecorder struct {
	r   io.Reader
	pos int64
	nl  []int64
}

func (l *lineRecorder) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		l.nl = append(l.nl, l.pos+int64(i+j))
		i += j + 1
	}
	l.pos += int64(n)
	return n, err
}

// newlinesBefore counts the newlines read before offset off.
func (l *lineRecorder) newlinesBefore(off int64) int {
	return sort.Search(len(l.nl), func(i int) bool { return l.nl[i] >= off })
}
