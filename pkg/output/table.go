package output

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// ANSI SGR codes; written only on a terminal with colour on.
const (
	sgrReset  = "\x1b[0m"
	sgrBold   = "\x1b[1m"
	sgrDim    = "\x1b[2m"
	sgrRed    = "\x1b[1;31m"
	sgrYellow = "\x1b[33m"
)

const columnGap = "  "

// tableWriter renders aligned columns for people. Every string from AWS
// goes through Sanitize; colour and relative times appear only on a
// terminal, so a piped table is plain and stable.
type tableWriter struct {
	w io.Writer
	o Options
	closer
}

func (*tableWriter) WriteRow(*scan.Row) error { return nil }

// cell is one table cell; style is an SGR code applied to its text only,
// never to the padding, so widths stay right.
type cell struct {
	text  string
	style string
}

func (t *tableWriter) Close(rep *scan.Report) error {
	if err := t.begin(FormatTable, rep); err != nil {
		return err
	}
	color := t.o.Terminal && t.o.Color
	header := []string{"ACCOUNT", "NAME", "OU", "STATE", "ACCESS", "KEYS", "CERTS", "MFA", "PASSWORD", "STATUS"}
	if t.o.Details {
		header = append(header, "KEY AGE", "KEY LAST USED", "PWD LAST USED")
	}
	header = append(header, "SEVERITY", "FINDINGS/ERROR")

	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = len(h)
	}
	rows := sortedRows(rep)
	cells := make([][]cell, len(rows))
	now := t.o.Now()
	for i, r := range rows {
		cells[i] = t.rowCells(r, rep, now)
		for j, c := range cells[i] {
			widths[j] = max(widths[j], displayWidth(c.text))
		}
	}

	bw := bufio.NewWriter(t.w)
	headerCells := make([]cell, len(header))
	for i, h := range header {
		headerCells[i] = cell{text: h, style: sgrBold}
	}
	writeLine(bw, headerCells, widths, color)
	for _, cs := range cells {
		writeLine(bw, cs, widths, color)
	}
	writeFooter(bw, &rep.Scan, color)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func writeLine(bw *bufio.Writer, cells []cell, widths []int, color bool) {
	for j, c := range cells {
		if j > 0 {
			bw.WriteString(columnGap)
		}
		if color && c.style != "" && c.text != "" {
			bw.WriteString(c.style + c.text + sgrReset)
		} else {
			bw.WriteString(c.text)
		}
		if j < len(cells)-1 {
			bw.WriteString(strings.Repeat(" ", widths[j]-displayWidth(c.text)))
		}
	}
	bw.WriteByte('\n')
}

func (t *tableWriter) rowCells(r *scan.Row, rep *scan.Report, now time.Time) []cell {
	cs := []cell{
		{text: orDash(Sanitize(r.AccountID))},
		{text: orDash(Sanitize(r.AccountName))},
		{text: orDash(Sanitize(r.OUPath))},
		{text: orDash(Sanitize(r.State))},
		{text: orDash(Sanitize(r.AccessMethod))},
		yesNo(r.RootAccessKeys),
		yesNo(r.RootSigningCertificates),
		yesNo(r.RootMFA),
		yesNo(r.RootPassword),
		statusCell(r.Status),
	}
	if t.o.Details {
		cs = append(cs, t.detailCells(r, rep, now)...)
	}
	sev := rowSeverity(r)
	cs = append(cs, cell{text: orDash(sev), style: severityStyle(sev)})
	// A row can carry both, for example findings from the summary and an
	// error from --details; show both rather than hide either.
	var last []string
	style := ""
	if len(r.Findings) > 0 {
		last, style = append(last, Sanitize(strings.Join(r.Findings, ","))), sgrRed
	}
	addError := func(code, text string) {
		msg := Sanitize(code)
		if e := Sanitize(text); e != "" {
			msg = strings.TrimPrefix(msg+": "+e, ": ")
		}
		last = append(last, msg)
		if style == "" {
			style = sgrYellow
		}
	}
	if r.ErrorCode != "" || r.Error != "" {
		addError(r.ErrorCode, r.Error)
	}
	if d := r.DetailsError; d != nil {
		addError(d.Code, d.Message)
	}
	if len(last) == 0 {
		return append(cs, cell{text: "-"})
	}
	return append(cs, cell{text: strings.Join(last, "; "), style: style})
}

// detailCells are KEY AGE (the oldest key, at the details' as-of time so
// that a piped table is stable), KEY LAST USED (the most recent use of any
// key) and PWD LAST USED: "?" unknown, "-" no such credential.
func (t *tableWriter) detailCells(r *scan.Row, rep *scan.Report, now time.Time) []cell {
	rc := r.RootCredentials
	if rc == nil {
		return []cell{{text: "?"}, {text: "?"}, {text: "?"}}
	}
	asOf := rc.AsOf
	if asOf.IsZero() {
		asOf = rep.Scan.FinishedAt
	}
	age, used := cell{text: "-"}, cell{text: "-"}
	if len(rc.AccessKeys) > 0 {
		var oldest *time.Time
		var last *scan.AccessKeyDetail
		unknownAge := false
		for i := range rc.AccessKeys {
			k := &rc.AccessKeys[i]
			switch {
			case k.CreatedAt == nil:
				unknownAge = true
			case oldest == nil || k.CreatedAt.Before(*oldest):
				oldest = k.CreatedAt
			}
			if k.LastUsedAt != nil && (last == nil || k.LastUsedAt.After(*last.LastUsedAt)) {
				last = k
			}
		}
		age = cell{text: "?"}
		if oldest != nil && !unknownAge {
			age.text = strconv.Itoa(max(0, int(asOf.Sub(*oldest)/(24*time.Hour)))) + "d"
		}
		used = cell{text: "never"}
		if last != nil {
			used = cell{text: t.when(*last.LastUsedAt, now)}
			where := strings.Trim(Sanitize(last.LastUsedService)+"/"+Sanitize(last.LastUsedRegion), "/")
			if where != "" {
				used.text += " " + where
			}
		}
	}
	pwd := cell{text: "?"}
	switch {
	case rc.Password.Present == nil:
	case !*rc.Password.Present:
		pwd.text = "-"
	case rc.Password.LastUsedAt == nil:
		pwd.text = "never"
	default:
		pwd.text = t.when(*rc.Password.LastUsedAt, now)
	}
	return []cell{age, used, pwd}
}

// when is a relative time on a terminal and a date in a pipe, where the
// output must not depend on when it was printed.
func (t *tableWriter) when(at, now time.Time) string {
	if !t.o.Terminal {
		return at.UTC().Format(time.DateOnly)
	}
	d := now.Sub(at)
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m ago"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h ago"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d ago"
}

// yesNo shows a flag plainly: whether it is a risk depends on the other
// flags, and the FINDINGS column, which is highlighted, says so.
func yesNo(b *bool) cell {
	switch {
	case b == nil:
		return cell{text: "?"}
	case *b:
		return cell{text: "yes"}
	}
	return cell{text: "no"}
}

func statusCell(status string) cell {
	c := cell{text: orDash(Sanitize(status))}
	switch status {
	case scan.StatusError:
		c.style = sgrYellow
	case scan.StatusSkipped, scan.StatusNotScanned:
		c.style = sgrDim
	}
	return c
}

func writeFooter(bw *bufio.Writer, m *scan.Meta, color bool) {
	c := m.Counts
	fmt.Fprintf(bw, "\n%s: %d scanned, %d skipped, %s, %d not scanned; %d with findings\n",
		plural(c.Listed, "account"), c.Scanned, c.Skipped, plural(c.Errors, "error"), c.NotScanned, c.WithFindings)
	fmt.Fprintf(bw, "organization %s, management account %s, caller %s, started %s, finished %s, orgscan %s\n",
		orUnknown(m.OrganizationID), orUnknown(m.ManagementAccountID), orUnknown(m.CallerARN),
		footerTime(m.StartedAt), footerTime(m.FinishedAt), orUnknown(m.Version))
	if m.Complete {
		return
	}
	msg := "INCOMPLETE: " + strings.Join(gapLines(m), "; ")
	if color {
		msg = sgrYellow + msg + sgrReset
	}
	bw.WriteString(msg + "\n")
	for _, f := range m.OUsNotListed {
		bw.WriteString("  OU " + ouFailureLine(f) + "\n")
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func footerTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orUnknown(s string) string {
	if s = Sanitize(s); s == "" {
		return "unknown"
	}
	return s
}
