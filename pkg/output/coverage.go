package output

import (
	"fmt"
	"strings"

	"github.com/orgscan/orgscan/pkg/scan"
)

// gapLines says, one line per reason the scan recorded, why a report is
// incomplete. Every renderer words incompleteness from here, reading the
// report's own reasons rather than guessing them from its counts.
func gapLines(m *scan.Meta) []string {
	if m.Complete {
		return nil
	}
	c := m.Counts
	var out []string
	for _, reason := range m.IncompleteReasons {
		switch reason {
		case scan.ReasonInterrupted:
			out = append(out, "the scan was interrupted")
		case scan.ReasonScanFailed:
			out = append(out, "the scan stopped part way; accounts not reached are not in this report")
		case scan.ReasonAccountsInError:
			out = append(out, fmt.Sprintf("%s could not be scanned: their root credentials are unknown", plural(c.Errors, "account")))
		case scan.ReasonAccountsNotScanned:
			out = append(out, fmt.Sprintf("%s not scanned", plural(c.NotScanned, "account")))
		case scan.ReasonOUsNotListed:
			out = append(out, fmt.Sprintf("%s could not be listed: the accounts below %s are missing from this report",
				plural(c.OUsNotListed, "OU"), pick(c.OUsNotListed == 1, "it", "them")))
		case scan.ReasonDetailsMissing:
			out = append(out, fmt.Sprintf("%s without root credential details (their summary flags and findings stand)", plural(c.DetailsErrors, "account")))
		default:
			out = append(out, Sanitize(reason))
		}
	}
	if len(out) == 0 {
		out = append(out, "the report does not say why")
	}
	return out
}

// ouFailureLine names one failed OU listing for people.
func ouFailureLine(f scan.OUFailure) string {
	what := "its accounts"
	if f.Listing == scan.ListingChildOUs {
		what = "its child OUs"
	}
	return fmt.Sprintf("%s (%s): %s not listed: %s", Sanitize(f.ID), Sanitize(f.Path), what, Sanitize(f.Error))
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
