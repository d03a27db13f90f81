package output

import "github.com/orgscan/orgscan/pkg/scan"

// rowSeverity is what table, CSV and HTML show as a row's severity: the
// highest of its findings' severities, "" without findings, and "unknown"
// when only findings this version does not define are present (a report
// from a newer orgscan read back).
func rowSeverity(r *scan.Row) string {
	if len(r.Findings) == 0 {
		return ""
	}
	if s := scan.HighestSeverity(r.Findings); s != "" {
		return string(s)
	}
	return "unknown"
}

// severityStyle colours a severity on a terminal: red for what needs action
// now, yellow for what should be planned, dim for information.
func severityStyle(s string) string {
	switch scan.Severity(s) {
	case scan.SeverityCritical, scan.SeverityHigh:
		return sgrRed
	case scan.SeverityMedium, scan.SeverityLow:
		return sgrYellow
	case scan.SeverityInformational:
		return sgrDim
	}
	return ""
}
