package output

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/orgscan/orgscan/pkg/remediate"
)

// RemediationWriter renders a remediation plan or the evidence of an
// apply (remediate.Report) in the two phases of Writer: accounts are handed
// to WriteAccount as each is final, which NDJSON writes at once, and Close
// receives the complete report, which the other formats render. It is not
// safe for concurrent use: the engine serializes its calls.
type RemediationWriter interface {
	// WriteAccount is called once per account as it is final. Streaming
	// formats write it before returning; the others ignore it.
	WriteAccount(a *remediate.Account) error
	// Close renders the complete report. Streaming formats write only the
	// report's accounts that were never passed to WriteAccount, so every
	// account appears exactly once. A RemediationWriter cannot be used
	// after Close.
	Close(rep *remediate.Report) error
}

// RemediationFormats lists the format names NewRemediation accepts, the
// default first: those of a scan but OCSF, whose findings a plan does not
// raise.
func RemediationFormats() []string {
	return []string{FormatTable, FormatCSV, FormatJSON, FormatNDJSON, FormatHTML}
}

// NewRemediation returns a RemediationWriter for format that writes to w.
// Of Options, only Terminal and Color matter: every format shows each
// credential the report acts on (Details), and times are the report's
// own, absolute even on a terminal, since evidence is compared with
// CloudTrail (Now).
func NewRemediation(format string, w io.Writer, o Options) (RemediationWriter, error) {
	if w == nil {
		return nil, fmt.Errorf("remediation output %q: no destination writer", format)
	}
	switch format {
	case FormatTable:
		return &remediationTableWriter{w: w, o: o}, nil
	case FormatCSV:
		return &remediationCSVWriter{w: w}, nil
	case FormatJSON:
		return &remediationJSONWriter{w: w}, nil
	case FormatNDJSON:
		return newRemediationNDJSONWriter(w), nil
	case FormatHTML:
		return &remediationHTMLWriter{w: w}, nil
	}
	return nil, fmt.Errorf("unknown format %q for a remediation report: choose one of %s", format, strings.Join(RemediationFormats(), ", "))
}

// remediationCloser guards the one-shot Close shared by every writer.
type remediationCloser struct{ closed bool }

func (c *remediationCloser) begin(format string, rep *remediate.Report) error {
	if c.closed {
		return fmt.Errorf("%s remediation output: already closed", format)
	}
	c.closed = true
	if rep == nil {
		return fmt.Errorf("%s remediation output: no report to write", format)
	}
	return nil
}

// remediationJSONWriter writes the report as it is, one indented
// document: a saved plan is read back by pkg/remediate, whose digest
// covers the report's own encoding, so the writer adds, drops and reorders
// nothing (not even the accounts).
type remediationJSONWriter struct {
	w io.Writer
	remediationCloser
}

func (*remediationJSONWriter) WriteAccount(*remediate.Account) error { return nil }

// Close writes the document one account at a time, as the scan's JSON
// writer does, so memory stays at one account rather than the whole
// indented report; the bytes are exactly encoding/json's.
func (j *remediationJSONWriter) Close(rep *remediate.Report) error {
	if err := j.begin(FormatJSON, rep); err != nil {
		return err
	}
	bw := bufio.NewWriter(j.w)
	if len(rep.Accounts) == 0 {
		// Null and an empty list differ in the encoding the digest covers.
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("write json remediation report: %w", err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
		return flushRemediation(bw, "json")
	}
	envelope := *rep
	envelope.Accounts = []remediate.Account{}
	head, err := json.MarshalIndent(&envelope, "", "  ")
	if err != nil {
		return fmt.Errorf("write json remediation report: %w", err)
	}
	head, ok := bytes.CutSuffix(head, []byte(emptyAccounts))
	if !ok {
		return fmt.Errorf("write json remediation report: the envelope does not end with its accounts")
	}
	bw.Write(head)
	bw.WriteByte('[')
	for i := range rep.Accounts {
		b, err := json.MarshalIndent(&rep.Accounts[i], "    ", "  ")
		if err != nil {
			return fmt.Errorf("write json remediation report: account %s: %w", rep.Accounts[i].AccountID, err)
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(b)
	}
	bw.WriteString("\n  ]\n}\n")
	return flushRemediation(bw, "json")
}

func flushRemediation(bw *bufio.Writer, format string) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s remediation report: %w", format, err)
	}
	return nil
}

// remediationNDJSONWriter writes one account object per line as soon as
// it has it, and nothing else: a reader of the pipe sees each account's
// outcome while the apply runs.
type remediationNDJSONWriter struct {
	enc     *json.Encoder
	flusher interface{ Flush() error }
	written map[string]bool
	remediationCloser
}

func newRemediationNDJSONWriter(w io.Writer) *remediationNDJSONWriter {
	n := &remediationNDJSONWriter{enc: json.NewEncoder(w), written: map[string]bool{}}
	// A buffered destination would hold accounts back until the run ends,
	// which defeats streaming.
	n.flusher, _ = w.(interface{ Flush() error })
	return n
}

func (n *remediationNDJSONWriter) WriteAccount(a *remediate.Account) error {
	if a == nil {
		return fmt.Errorf("ndjson remediation output: nil account")
	}
	if n.closed {
		return fmt.Errorf("ndjson remediation output: account %s after close", a.AccountID)
	}
	return n.write(a)
}

func (n *remediationNDJSONWriter) write(a *remediate.Account) error {
	if n.written[a.AccountID] {
		return fmt.Errorf("ndjson remediation output: account %s written twice", a.AccountID)
	}
	n.written[a.AccountID] = true
	// Encode makes one Write per account, so a reader of the pipe never
	// sees half a line.
	if err := n.enc.Encode(a); err != nil {
		return fmt.Errorf("write ndjson remediation line for account %s: %w", a.AccountID, err)
	}
	if n.flusher != nil {
		if err := n.flusher.Flush(); err != nil {
			return fmt.Errorf("flush ndjson remediation line for account %s: %w", a.AccountID, err)
		}
	}
	return nil
}

// Close writes the accounts the engine never handed over (those the run
// did not start, for instance), in account id order.
func (n *remediationNDJSONWriter) Close(rep *remediate.Report) error {
	if err := n.begin(FormatNDJSON, rep); err != nil {
		return err
	}
	for _, a := range sortedAccounts(rep) {
		if n.written[a.AccountID] {
			continue
		}
		if err := n.write(a); err != nil {
			return err
		}
	}
	return nil
}

// sortedAccounts orders the report's accounts by account id without
// reordering the report.
func sortedAccounts(rep *remediate.Report) []*remediate.Account {
	out := make([]*remediate.Account, len(rep.Accounts))
	for i := range rep.Accounts {
		out[i] = &rep.Accounts[i]
	}
	slices.SortStableFunc(out, func(a, b *remediate.Account) int { return cmp.Compare(a.AccountID, b.AccountID) })
	return out
}
