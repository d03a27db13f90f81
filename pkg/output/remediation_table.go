package output

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/remediate"
)

const sgrGreen = "\x1b[32m"

// remediationTableWriter renders a plan or an apply's evidence for people:
// a header naming the mode, the organization, the caller and the plan;
// one line per action, grouped by account; the totals; and what is
// missing and what to do next. As in the scan's table, every string from
// AWS is sanitized and colour appears only on a terminal.
type remediationTableWriter struct {
	w io.Writer
	o Options
	remediationCloser
}

func (*remediationTableWriter) WriteAccount(*remediate.Account) error { return nil }

func (t *remediationTableWriter) Close(rep *remediate.Report) error {
	if err := t.begin(FormatTable, rep); err != nil {
		return err
	}
	color := t.o.Terminal && t.o.Color
	v := newRemediationView(rep)
	bw := bufio.NewWriter(t.w)
	style := func(s, sgr string) string {
		if color && sgr != "" && s != "" {
			return sgr + s + sgrReset
		}
		return s
	}

	bw.WriteString(style(v.Mode, sgrBold) + "\n")
	fmt.Fprintf(bw, "organization %s, management account %s, caller %s, orgscan %s\n",
		v.Organization, v.ManagementAccount, v.Caller, v.Version)
	fmt.Fprintf(bw, "plan %s, made %s by %s\n", v.Digest, footerTime(v.PlanCreated), v.PlanCreatedBy)
	if !v.Plan {
		fmt.Fprintf(bw, "apply started %s, finished %s\n", footerTime(v.Started), footerTime(v.Finished))
	}
	bw.WriteString("the plan " + v.Selection + "\n\n")

	header := []string{"ACCOUNT", "NAME", "OU", "STATUS", "KIND", "CREDENTIAL", "DECISION", "OUTCOME", "AT", "DETAIL"}
	lines := [][]cell{}
	for i := range v.Accounts {
		lines = append(lines, remediationTableLines(&v.Accounts[i], v.Plan)...)
	}
	widths := make([]int, len(header))
	headerCells := make([]cell, len(header))
	for i, h := range header {
		widths[i] = len(h)
		headerCells[i] = cell{text: h, style: sgrBold}
	}
	for _, cs := range lines {
		for j, c := range cs {
			widths[j] = max(widths[j], displayWidth(c.text))
		}
	}
	writeLine(bw, headerCells, widths, color)
	for _, cs := range lines {
		writeLine(bw, cs, widths, color)
	}

	bw.WriteString("\n" + totalsLine("accounts", v.AccountTotal, v.ByStatus, color))
	actions := 0
	for _, c := range v.ByOutcome {
		actions += c.Count
	}
	bw.WriteString(totalsLine("actions", actions, v.ByOutcome, color))
	deletions := 0
	for _, c := range v.ByKind {
		deletions += c.Count
	}
	bw.WriteString(totalsLine("credentials "+v.KindVerb, deletions, v.ByKind, color))

	if !v.Complete {
		bw.WriteString(style("INCOMPLETE: "+strings.Join(v.Gaps, "; "), sgrYellow) + "\n")
		for _, l := range v.OUsNotListed {
			bw.WriteString("  OU " + l + "\n")
		}
	}
	for _, l := range v.Attention {
		bw.WriteString(style("ATTENTION: "+l, sgrRed) + "\n")
	}
	for _, l := range v.Next {
		bw.WriteString(l + "\n")
	}
	return flushRemediation(bw, "table")
}

// totalsLine is "name: total (n a, m b)" with each count styled by its
// tone.
func totalsLine(name string, total int, counts []countView, color bool) string {
	var parts []string
	for _, c := range counts {
		s := fmt.Sprintf("%d %s", c.Count, c.Name)
		if sgr := toneStyle(c.Tone); color && sgr != "" && c.Count > 0 {
			s = sgr + s + sgrReset
		}
		parts = append(parts, s)
	}
	line := fmt.Sprintf("%s: %d", capitalize(name), total)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, ", ") + ")"
	}
	return line + "\n"
}

// remediationTableLines are an account's lines: one per action, the
// first naming the account; then what the account itself says (why it
// was skipped or failed, what remains) and, after an apply, the verified
// state.
func remediationTableLines(a *accountView, plan bool) [][]cell {
	account := []cell{{text: a.ID}, {text: orDash(a.Name)}, {text: a.OU}, {text: a.Status, style: toneStyle(a.Tone)}}
	blank := []cell{{}, {}, {}, {}}
	var lines [][]cell
	for i := range a.Actions {
		x := &a.Actions[i]
		head := blank
		if i == 0 {
			head = account
		}
		lines = append(lines, append(append([]cell(nil), head...),
			cell{text: x.Kind}, cell{text: x.ID}, cell{text: x.DecisionText()},
			cell{text: x.Outcome, style: toneStyle(x.Tone)}, cell{text: tableTime(x.At)}, cell{text: orDash(x.Detail())}))
	}
	detail := a.Detail()
	if len(lines) == 0 {
		lines = append(lines, append(account, cell{text: "-"}, cell{text: "-"}, cell{text: "-"}, cell{text: "-"}, cell{text: "-"},
			cell{text: orDash(detail), style: toneStyle(a.Tone)}))
	} else if detail != "" {
		lines = append(lines, append(append([]cell(nil), blank...), cell{}, cell{}, cell{}, cell{}, cell{},
			cell{text: detail, style: toneStyle(a.Tone)}))
	}
	if !plan && a.After != "" {
		lines = append(lines, append(append([]cell(nil), blank...), cell{}, cell{}, cell{}, cell{}, cell{},
			cell{text: "verified after: " + a.After}))
	}
	return lines
}

// tableTime is a deletion's time: absolute, even on a terminal, since
// evidence is compared with CloudTrail.
func tableTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func toneStyle(tone string) string {
	switch tone {
	case toneGood:
		return sgrGreen
	case toneTodo:
		return sgrBold
	case toneWarn:
		return sgrYellow
	case toneBad:
		return sgrRed
	case toneDim:
		return sgrDim
	}
	return ""
}
