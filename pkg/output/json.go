package output

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/orgscan/orgscan/pkg/scan"
)

type jsonWriter struct {
	w io.Writer
	closer
}

func (*jsonWriter) WriteRow(*scan.Row) error { return nil }

// Close writes the document one account at a time, so memory stays at one
// row rather than the whole indented report. The bytes are those of
// encoding/json's indented encoding of document.
func (j *jsonWriter) Close(rep *scan.Report) error {
	if err := j.begin(FormatJSON, rep); err != nil {
		return err
	}
	bw := bufio.NewWriter(j.w)
	meta, err := json.MarshalIndent(rep.Scan, "  ", "  ")
	if err != nil {
		return fmt.Errorf("write json report: scan metadata: %w", err)
	}
	// The definitions make the report readable on its own: each finding's
	// severity, controls and remediation as this version defines them.
	defs, err := json.MarshalIndent(scan.Definitions(), "  ", "  ")
	if err != nil {
		return fmt.Errorf("write json report: finding definitions: %w", err)
	}
	fmt.Fprintf(bw, "{\n  \"schema_version\": %q,\n  \"scan\": %s,\n  \"finding_definitions\": %s,\n  \"accounts\": [", SchemaVersion, meta, defs)
	rows := sortedRows(rep)
	for i, r := range rows {
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
	if len(rows) > 0 {
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
	for _, r := range sortedRows(rep) {
		if n.written[r.AccountID] {
			continue
		}
		if err := n.writeRow(r); err != nil {
			return err
		}
	}
	return nil
}
