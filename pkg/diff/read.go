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
	"strconv"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

// Document formats, as detected by Read.
const (
	FormatJSON   = "json"   // one JSON document with a scan block
	FormatNDJSON = "ndjson" // one account row per line, no scan block
	FormatScan   = "scan"   // built in memory from a scan that just ran
)

// Default limits of Read.
const (
	defaultMaxLineBytes = 1 << 20 // one NDJSON row
	defaultMaxBytes     = 1 << 30 // a whole input, either format
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
	rows := r.Accounts
	if l := r.Rows(); l.Len() != len(rows) {
		// Some or all rows were kept compactly (scan.Config.CompactRows).
		rows = make([]scan.Row, 0, l.Len())
		for row := range l.All() {
			rows = append(rows, *row)
		}
	}
	return &Document{
		SchemaVersion: output.SchemaVersion,
		Format:        FormatScan,
		Scan:          &meta,
		Rows:          rows,
	}
}

// UnsupportedSchemaError refuses a report whose schema_version is not the
// one this orgscan writes (output.SchemaVersion): its fields may mean
// something else, so it is never read rather than guessed at.
type UnsupportedSchemaError struct {
	Version string
}

func (e *UnsupportedSchemaError) Error() string {
	v := e.Version
	if len(v) > 64 {
		v = v[:64] + "…"
	}
	return fmt.Sprintf("unsupported report schema_version %q: this orgscan reads schema_version %q only; compare it with an orgscan release that reads it",
		v, output.SchemaVersion)
}

// TooLargeError reports an input, a line or a value beyond Read's limits.
type TooLargeError struct {
	// Line is the offending NDJSON line, or where the offending value of a
	// JSON report starts; 0 when the whole input is too large.
	Line  int
	Limit int64
	// What names the value of a JSON report ("account 3"); empty for an
	// NDJSON line or the whole input.
	What string
}

func (e *TooLargeError) Error() string {
	switch {
	case e.Line > 0 && e.What != "":
		return fmt.Sprintf("line %d: %s is longer than %d bytes; a report's is far smaller, so this is not an orgscan report", e.Line, e.What, e.Limit)
	case e.Line > 0:
		return fmt.Sprintf("line %d: longer than %d bytes; an account row is far smaller, so this is not an orgscan NDJSON report", e.Line, e.Limit)
	}
	return fmt.Sprintf("input larger than %d bytes", e.Limit)
}

// reader reads reports with explicit limits, which tests lower; the zero
// value uses the defaults.
type reader struct {
	// MaxLineBytes bounds an NDJSON line and, in a JSON report, each
	// account and the rest of the report beside its accounts; 0 means
	// defaultMaxLineBytes.
	MaxLineBytes int
	MaxBytes     int64 // the whole input; 0 means defaultMaxBytes
}

// Read reads a JSON or NDJSON report and detects the format from the
// content: the first value must be a JSON object; with a schema_version key
// it is a JSON report, with an account_id key the first row of an NDJSON
// report. File names are never consulted, so a report read from S3 or
// stdin behaves the same.
//
// Memory follows the rows kept, not the input: white space never reaches
// the JSON decoder, a JSON report is read one account at a time, and every
// value held whole (an account, an NDJSON line, the rest of a report beside
// its accounts) is cut off at a limit while it is read. An input or a value
// beyond the limits, set far above any report's, is refused with a
// *TooLargeError.
func Read(r io.Reader) (*Document, error) {
	return reader{}.Read(r)
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Read is the package's Read with rd's limits: MaxLineBytes cuts off each
// value held whole.
func (rd reader) Read(r io.Reader) (*Document, error) {
	maxLine := rd.MaxLineBytes
	if maxLine <= 0 {
		maxLine = defaultMaxLineBytes
	}
	maxBytes := rd.MaxBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxBytes
	}
	br := bufio.NewReaderSize(&limitReader{r: r, left: maxBytes, limit: maxBytes}, 64<<10)

	line, err := skipLeadingSpace(br)
	if err != nil {
		return nil, err
	}
	first, err := readFirstObject(br, line, maxLine)
	if err != nil {
		return nil, err
	}
	switch f := first.fields; {
	case f["changes"] && f["counts"] && !f["accounts"]:
		return nil, fmt.Errorf("line %d: this is an orgscan diff, not a report; compare the reports it was made from", line)
	case f["schema_version"] && !f["account_id"]:
		if err := expectEnd(br, first.endLine); err != nil {
			return nil, err
		}
		return first.report()
	case f["account_id"]:
		// A row may carry its own schema_version; parseRow checks it. Its
		// size and line were checked while it was read.
		return readNDJSON(first.row, br, line, maxLine)
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

// firstObject is what readFirstObject learnt of the input's first JSON
// object, checked value by value as it went past. Which checks count is
// decided at the end, once the keys say what the object is.
type firstObject struct {
	fields  map[string]bool // its top-level keys
	endLine int             // the line of its closing brace

	// As a JSON report:
	version    string
	versionErr error // schema_version is not a string
	scanRaw    []byte
	scanErr    error
	meta       *scan.Meta
	accountsOK bool  // accounts is a list
	accountErr error // accounts is not a list
	rows       []scan.Row
	rowErr     error // the first account that is refused, in order

	// As the first NDJSON row: its bytes, white space collapsed.
	row []byte
}

// report checks the object as a JSON report. The schema version is checked
// before anything else is taken to mean what schema_version 1 says.
func (o *firstObject) report() (*Document, error) {
	if o.versionErr != nil {
		return nil, o.versionErr
	}
	if o.version != output.SchemaVersion {
		return nil, &UnsupportedSchemaError{Version: o.version}
	}
	doc := &Document{SchemaVersion: o.version, Format: FormatJSON}
	if !o.fields["scan"] || isNull(o.scanRaw) {
		return nil, errors.New("the report has no scan block; a schema_version 1 report always has one")
	}
	if o.scanErr != nil {
		return nil, o.scanErr
	}
	doc.Scan = o.meta
	if !o.fields["accounts"] {
		return nil, errors.New("the report has no accounts list")
	}
	if !o.accountsOK {
		return nil, o.accountErr
	}
	if o.rowErr != nil {
		return nil, o.rowErr
	}
	doc.Rows = o.rows
	return doc, nil
}

// readFirstObject reads the object that starts at the reader (on line) one
// top-level value at a time, and the accounts of a report one at a time.
// No value it holds is larger than maxLine, and as soon as the object is an
// NDJSON row (it has an account_id), the row's line is held to maxLine too.
func readFirstObject(br *bufio.Reader, line, maxLine int) (*firstObject, error) {
	src := &jsonSource{br: br, line: line, firstLine: line, teeCap: maxLine}
	dec := json.NewDecoder(src)
	lineAt := src.lineAt
	fail := func(err error) (*firstObject, error) {
		return nil, decodeError(err, lineAt, src.out)
	}
	if _, err := dec.Token(); err != nil { // the '{' skipLeadingSpace saw
		return fail(err)
	}
	o := &firstObject{fields: map[string]bool{}}
	// The keys, the schema version and the scan block share one budget:
	// a report's are small, and a row's line is held to maxLine anyway.
	rest := int64(maxLine)
	hold := func(what string) {
		src.hold(dec.InputOffset(), int64(maxLine), what)
	}
	seen := map[string]int{}
	for dec.More() {
		hold("a key")
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("line %d: expected an object key", lineAt(dec.InputOffset()))
		}
		if rest -= int64(len(key)); rest < 0 {
			return nil, &TooLargeError{Line: line, Limit: int64(maxLine), What: "the report beside its accounts"}
		}
		keyEnd := dec.InputOffset()
		if o.fields[key] {
			return nil, fmt.Errorf("line %d: key %q appears twice", lineAt(keyEnd+1), truncate(key, 32))
		}
		o.fields[key] = true
		if key == "account_id" {
			if err := src.asRow(maxLine); err != nil {
				return nil, err
			}
		}
		if key == "accounts" {
			if err := o.readAccounts(dec, src, maxLine, seen); err != nil {
				return nil, err
			}
			continue
		}
		hold("the value of " + strconv.Quote(truncate(key, 32)))
		if key != "schema_version" && key != "scan" {
			// Not needed whole (a row's fields are read from the copy of
			// its line; a diff's changes only show what it is): read
			// past it a token at a time.
			tok, err := dec.Token()
			if err != nil {
				return fail(err)
			}
			if err := skipValue(dec, src, tok, maxLine); err != nil {
				return nil, err
			}
			src.forget(dec.InputOffset())
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fail(err)
		}
		off := dec.InputOffset() - int64(len(raw))
		if rest -= int64(len(raw)); rest < 0 {
			return nil, &TooLargeError{Line: line, Limit: int64(maxLine), What: "the report beside its accounts"}
		}
		switch key {
		case "schema_version":
			if err := json.Unmarshal(raw, &o.version); err != nil {
				o.versionErr = fmt.Errorf("line %d: schema_version must be a string such as %q, found %q",
					lineAt(off), output.SchemaVersion, truncate(string(raw), 64))
			}
		case "scan":
			o.scanRaw = raw
			var meta scan.Meta
			switch {
			case isNull(raw):
			case raw[0] != '{':
				o.scanErr = fmt.Errorf("line %d: scan must be an object", lineAt(off))
			default:
				if err := json.Unmarshal(raw, &meta); err != nil {
					o.scanErr = fmt.Errorf("line %d: scan block: %w", errorLine(err, off, lineAt), err)
				}
				o.meta = &meta
			}
		}
		src.forget(dec.InputOffset())
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fail(err)
	}
	o.endLine = src.line
	if o.fields["account_id"] {
		o.row = src.tee
	}
	return o, nil
}

// readAccounts reads the value of a report's accounts key: a list is read
// one account at a time, each checked and kept at once (its line is known
// only now); anything else is refused if the object turns out a report.
func (o *firstObject) readAccounts(dec *json.Decoder, src *jsonSource, maxLine int, seen map[string]int) error {
	lineAt := src.lineAt
	src.hold(dec.InputOffset(), int64(maxLine), "the accounts key")
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err, lineAt, src.out)
	}
	if tok != json.Delim('[') {
		o.accountErr = fmt.Errorf("line %d: accounts must be a list", lineAt(dec.InputOffset()-1))
		return skipValue(dec, src, tok, maxLine)
	}
	o.accountsOK = true
	for i := 1; dec.More(); i++ {
		src.hold(dec.InputOffset(), int64(maxLine), fmt.Sprintf("account %d", i))
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return decodeError(err, lineAt, src.out)
		}
		start := dec.InputOffset() - int64(len(raw))
		ln := lineAt(start)
		if len(raw) > maxLine {
			return &TooLargeError{Line: ln, Limit: int64(maxLine), What: fmt.Sprintf("account %d", i)}
		}
		if o.rowErr == nil {
			row, err := parseRow(raw)
			switch prev, dup := seen[row.AccountID]; {
			case err != nil:
				o.rowErr = fmt.Errorf("line %d: account %d: %w", errorLine(err, start, lineAt), i, err)
			case dup:
				o.rowErr = fmt.Errorf("line %d: account %s is listed twice (first on line %d)", ln, row.AccountID, prev)
			default:
				seen[row.AccountID] = ln
				o.rows = append(o.rows, row)
			}
		}
		src.forget(dec.InputOffset())
	}
	if _, err := dec.Token(); err != nil { // ']'
		return decodeError(err, lineAt, src.out)
	}
	return nil
}

// skipValue reads past the rest of a value whose first token is tok,
// holding one token at a time.
func skipValue(dec *json.Decoder, src *jsonSource, tok json.Token, maxLine int) error {
	depth := 0
	for {
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		src.hold(dec.InputOffset(), int64(maxLine), "a value")
		var err error
		if tok, err = dec.Token(); err != nil {
			return decodeError(err, src.lineAt, src.out)
		}
		src.forget(dec.InputOffset())
	}
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
	if in.SchemaVersion != nil && *in.SchemaVersion != output.SchemaVersion {
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

// expectEnd refuses anything but white space after a JSON report, such as a
// second report concatenated to the first; end is the report's last line.
func expectEnd(br *bufio.Reader, end int) error {
	line := end
	for {
		c, err := br.ReadByte()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return readError(err)
		}
		switch c {
		case '\n':
			line++
		case ' ', '\t', '\r':
		default:
			return fmt.Errorf("line %d: unexpected data after the report that ends on line %d", line, end)
		}
	}
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
	var rs *rowSpansError
	if errors.As(err, &rs) {
		return rs
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

// jsonSource hands the input's first JSON object to a json.Decoder with
// its white space taken out (a single space is kept only where two
// literals would otherwise run together), and ends with the object: what
// follows stays in the bufio.Reader, untouched, for the NDJSON lines. The
// decoder thus never buffers white space, however much of it there is, and
// the lines are known from a mark per line that holds a token, dropped once
// the decoder is past them.
type jsonSource struct {
	br        *bufio.Reader
	err       error // a read error, repeated on every later call
	line      int   // the line of the next input byte
	firstLine int

	out   int64 // bytes handed to the decoder
	raw   int64 // input bytes of the object read so far
	depth int
	done  bool
	prev  byte // the last byte handed on
	// inString and escape follow strings, where every byte counts;
	// space and newLine are white space seen since the last byte handed on.
	inString, escape, space, newLine bool
	multiline                        bool // a newline inside the object
	marks                            []lineMark

	// hold: the value being decoded started at holdFrom and may take up to
	// holdMax bytes (plus what the decoder reads ahead).
	holdFrom, holdMax int64
	holdWhat          string

	// rowMax, once the object is known to be an NDJSON row, is its line's
	// limit.
	rowMax int64

	// tee keeps the object's first teeCap bytes: all of it when it is a row.
	tee    []byte
	teeCap int
	teeOff bool
}

// lineMark says that the decoder's byte at off is on line.
type lineMark struct {
	off  int64
	line int
}

// readAhead is the most a single Read hands on, so that the decoder's read
// ahead past the value it holds stays small.
const readAhead = 4 << 10

func (s *jsonSource) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if s.done {
		return 0, io.EOF
	}
	p = p[:min(len(p), readAhead)]
	n := 0
	for n+2 <= len(p) && !s.done {
		c, err := s.br.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.err = err
			}
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		s.raw++
		if c == '\n' {
			s.line++
			s.newLine, s.multiline = true, true
		}
		if err := s.checkRow(); err != nil {
			s.err = err
			return n, nil
		}
		if !s.inString {
			switch c {
			case ' ', '\t', '\r', '\n':
				s.space = true
				continue
			}
		}
		// The decoder may hold a read ahead from before the value and
		// one past it: the exact size is checked once it is decoded.
		if s.holdMax > 0 && s.out-s.holdFrom > s.holdMax+2*readAhead {
			s.err = &TooLargeError{Line: s.lineAt(s.holdFrom), Limit: s.holdMax, What: s.holdWhat}
			return n, nil
		}
		if s.space && !s.inString && isLiteral(s.prev) && isLiteral(c) {
			n += s.emit(p[n:], ' ')
		}
		s.space = false
		n += s.emit(p[n:], c)
		switch {
		case s.escape:
			s.escape = false
		case s.inString && c == '\\':
			s.escape = true
		case c == '"':
			s.inString = !s.inString
		case s.inString:
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
			s.done = s.depth <= 0
		}
	}
	return n, nil
}

// emit hands c on at p[0], marking the line where one begins.
func (s *jsonSource) emit(p []byte, c byte) int {
	if s.newLine || len(s.marks) == 0 {
		s.marks = append(s.marks, lineMark{off: s.out, line: s.line})
		s.newLine = false
	}
	p[0] = c
	s.prev = c
	s.out++
	if !s.teeOff {
		if len(s.tee) < s.teeCap {
			if len(s.tee) == cap(s.tee) {
				// Doubling, up to the cap: append's gentler growth
				// would allocate several times the cap on the way.
				grown := make([]byte, len(s.tee), min(max(2*cap(s.tee), 512), s.teeCap))
				copy(grown, s.tee)
				s.tee = grown
			}
			s.tee = append(s.tee, c)
		} else {
			s.tee, s.teeOff = nil, true // too long to be a row
		}
	}
	return 1
}

// isLiteral is a byte of a number, true, false or null.
func isLiteral(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || 'A' <= c && c <= 'Z'
}

// hold bounds the value the decoder reads next, from the decoder offset
// from on: what names it in the error.
func (s *jsonSource) hold(from, limit int64, what string) {
	s.holdFrom, s.holdMax, s.holdWhat = from, limit, what
}

// asRow holds the object to an NDJSON row's line from now on.
func (s *jsonSource) asRow(maxLine int) error {
	s.rowMax = int64(maxLine)
	return s.checkRow()
}

func (s *jsonSource) checkRow() error {
	switch {
	case s.rowMax == 0:
		return nil
	case s.multiline:
		return &rowSpansError{Line: s.firstLine}
	case s.raw > s.rowMax:
		return &TooLargeError{Line: s.firstLine, Limit: s.rowMax}
	}
	return nil
}

// rowSpansError refuses an NDJSON row that is not on one line.
type rowSpansError struct{ Line int }

func (e *rowSpansError) Error() string {
	return fmt.Sprintf("line %d: the account row spans several lines; NDJSON needs one row per line", e.Line)
}

// lineAt is the line of the decoder's byte at off, for an offset the
// decoder has not yet been moved past with forget.
func (s *jsonSource) lineAt(off int64) int {
	i := sort.Search(len(s.marks), func(i int) bool { return s.marks[i].off > off })
	if i == 0 {
		return s.firstLine
	}
	return s.marks[i-1].line
}

// forget drops the marks before the decoder's offset off, keeping the one
// that says which line off is on.
func (s *jsonSource) forget(off int64) {
	i := sort.Search(len(s.marks), func(i int) bool { return s.marks[i].off > off })
	if i > 1 {
		s.marks = s.marks[i-1:]
	}
}
