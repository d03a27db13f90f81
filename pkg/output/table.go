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
	vo := t.o.viewOptions(rep)
	vo.when = t.when(t.o.Now())
	header := []string{"ACCOUNT", "NAME", "OU", "STATE", "ACCESS", "KEYS", "CERTS", "MFA", "PASSWORD", "STATUS"}
	if t.o.Details {
		header = append(header, "KEY AGE", "KEY LAST USED", "PWD LAST USED")
	}
	for _, h := range vo.ownerHeaders() {
		header = append(header, strings.ToUpper(h))
	}
	header = append(header, "SEVERITY", "FINDINGS/ERROR")

	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = displayWidth(h)
	}
	rows := rep.Rows()
	// Two passes, the widths then the lines, each working a row's cells
	// out anew: holding every row's cells between them would cost as much
	// as the rows themselves.
	for r := range rows.All() {
		v := newRowView(r, rep.Scan.FinishedAt, vo)
		for j, c := range t.rowCells(&v) {
			widths[j] = max(widths[j], displayWidth(c.text))
		}
	}

	bw := bufio.NewWriter(t.w)
	headerCells := make([]cell, len(header))
	for i, h := range header {
		headerCells[i] = cell{text: h, style: sgrBold}
	}
	writeLine(bw, headerCells, widths, color)
	for r := range rows.All() {
		v := newRowView(r, rep.Scan.FinishedAt, vo)
		writeLine(bw, t.rowCells(&v), widths, color)
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

// rowCells lays out a row's view; the style of each cell is the table's.
func (t *tableWriter) rowCells(v *rowView) []cell {
	cs := []cell{
		{text: v.ID},
		{text: orDash(v.Name)},
		{text: v.OU},
		{text: v.State},
		{text: v.Access},
		{text: v.Keys.Text},
		{text: v.Certs.Text},
		{text: v.MFA.Text},
		{text: v.Password.Text},
		{text: v.Status, style: statusStyle(v.StatusKind)},
	}
	if t.o.Details {
		cs = append(cs, cell{text: v.KeyAge.Text}, cell{text: v.KeyLastUsed.TextWhere()}, cell{text: v.PwdLastUsed.Text})
	}
	for _, tag := range v.Tags {
		cs = append(cs, cell{text: tag})
	}
	if v.Contact != "" {
		cs = append(cs, cell{text: v.Contact})
	}
	cs = append(cs, cell{text: orDash(v.Severity), style: severityStyle(v.Severity)})
	// A row can carry both, for example findings from the summary and an
	// error from --details; show both rather than hide either.
	var last []string
	style := ""
	if len(v.Findings) > 0 {
		last, style = append(last, strings.Join(v.Findings, ",")), sgrRed
	}
	for _, p := range []*problemView{v.Error, v.DetailsError, v.TagsError, v.ContactError} {
		if p == nil {
			continue
		}
		last = append(last, p.Text())
		if style == "" {
			style = sgrYellow
		}
	}
	if len(last) == 0 {
		return append(cs, cell{text: "-"})
	}
	return append(cs, cell{text: strings.Join(last, "; "), style: style})
}

// when is a relative time on a terminal and a date in a pipe, where the
// output must not depend on when it was printed.
func (t *tableWriter) when(now time.Time) func(time.Time) string {
	if !t.o.Terminal {
		return dateOnly
	}
	return func(at time.Time) string {
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
}

// statusStyle dims what was not read and marks errors.
func statusStyle(kind string) string {
	switch kind {
	case scan.StatusError:
		return sgrYellow
	case scan.StatusSkipped, scan.StatusNotScanned:
		return sgrDim
	}
	return ""
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
