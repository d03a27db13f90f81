package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/orgscan/orgscan/pkg/scan"
)

// SchemaVersion is the JSON report's "schema_version", the one definition
// of it: pkg/diff reads only this version, upload metadata carries it, and
// schema/report.schema.json publishes it (a test holds the two to agree).
// It changes when a field is renamed or removed, or changes meaning.
const SchemaVersion = "1"

// document is the JSON report's envelope, the one definition of its keys
// and their order; schema/report.schema.json publishes it. The writer
// streams it, one account at a time, but its bytes are exactly those of
// encoding/json's indented encoding of a document.
type document struct {
	SchemaVersion string    `json:"schema_version"`
	Scan          scan.Meta `json:"scan"`
	// FindingDefinitions make the report readable on its own: each
	// finding's severity, controls and remediation as this version
	// defines them (see reportDefinitions).
	FindingDefinitions map[string]scan.Definition `json:"finding_definitions"`
	Accounts           []*scan.Row                `json:"accounts"`
}

// newDocument is the whole document of rep, its accounts sorted by
// account id: what Close writes, one account at a time.
func newDocument(rep *scan.Report) document {
	doc := newEnvelope(rep)
	doc.Accounts = sortedRows(rep)
	return doc
}

// newEnvelope is the document of rep without its accounts.
func newEnvelope(rep *scan.Report) document {
	return document{SchemaVersion: SchemaVersion, Scan: rep.Scan, FindingDefinitions: reportDefinitions(&rep.Scan), Accounts: []*scan.Row{}}
}

// reportDefinitions are the definitions a report carries: every finding's,
// but those that only a scan reading security contacts raises only when it
// did, so that a report of a scan without contacts reads as it always did.
func reportDefinitions(m *scan.Meta) map[string]scan.Definition {
	defs := scan.Definitions()
	for id, d := range defs {
		if d.RequiresContacts && !m.Options.Contacts {
			delete(defs, id)
		}
	}
	return defs
}

type jsonWriter struct {
	w io.Writer
	closer
}

func (*jsonWriter) WriteRow(*scan.Row) error { return nil }

// emptyAccounts ends the encoding of a document without accounts.
const emptyAccounts = "[]\n}"

// Close writes the document one account at a time, so memory stays at one
// row rather than the whole indented report: the envelope is encoded
// without its accounts, which are spliced in where its empty list was.
func (j *jsonWriter) Close(rep *scan.Report) error {
	if err := j.begin(FormatJSON, rep); err != nil {
		return err
	}
	rows := rep.Rows()
	head, err := json.MarshalIndent(newEnvelope(rep), "", "  ")
	if err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	head, ok := bytes.CutSuffix(head, []byte(emptyAccounts))
	if !ok {
		return fmt.Errorf("write json report: the envelope does not end with its accounts")
	}
	bw := bufio.NewWriter(j.w)
	bw.Write(head)
	bw.WriteByte('[')
	for i := range rows.Len() {
		r := rows.At(i)
		b, err := json.MarshalIndent(r, "    ", "  ")
		if err != nil {
			return fmt.Errorf("write json report: account %s: %w", r.AccountID, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	if rows.Len() > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]\n}\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

// ndjsonWriter writes one account object per line as soon as it has it.
type ndjsonWriter struct {
	enc     *json.Encoder
	flusher interface{ Flush() error }
	written map[string]bool
	closer
}

func newNDJSONWriter(w io.Writer) *ndjsonWriter {
	n := &ndjsonWriter{enc: json.NewEncoder(w), written: map[string]bool{}}
	// A buffered destination would hold rows back until the scan ends,
	// which defeats streaming.
	n.flusher, _ = w.(interface{ Flush() error })
	return n
}

func (n *ndjsonWriter) WriteRow(r *scan.Row) error {
	if r == nil {
		return fmt.Errorf("ndjson output: nil row")
	}
	if n.closed {
		return fmt.Errorf("ndjson output: row for account %s after close", r.AccountID)
	}
	return n.writeRow(r)
}

func (n *ndjsonWriter) writeRow(r *scan.Row) error {
	if n.written[r.AccountID] {
		return fmt.Errorf("ndjson output: account %s written twice", r.AccountID)
	}
	n.written[r.AccountID] = true
	// Encode makes one Write per row, so a reader of the pipe never sees
	// half a line from us.
	if err := n.enc.Encode(r); err != nil {
		return fmt.Errorf("write ndjson row for account %s: %w", r.AccountID, err)
	}
	if n.flusher != nil {
		if err := n.flusher.Flush(); err != nil {
			return fmt.Errorf("flush ndjson row for account %s: %w", r.AccountID, err)
		}
	}
	return nil
}

func (n *ndjsonWriter) Close(rep *scan.Report) error {
	if err := n.begin(FormatNDJSON, rep); err != nil {
		return err
	}
	for r := range rep.Rows().All() {
		if n.written[r.AccountID] {
			continue
		}
		if err := n.writeRow(r); err != nil {
			return err
		}
	}
	return nil
}
