package output

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/orgscan/orgscan/pkg/remediate"
)

// remediationCSVColumns is the remediation CSV's header, in order: the
// account, then the action, then what the account itself says (why it was
// skipped or could not be read, what a verification still found and the
// verified state after an apply), then the run.
var remediationCSVColumns = []string{
	"account_id", "account_name", "ou_path", "state", "status",
	"kind", "credential_id", "decision", "hold", "hold_detail", "outcome", "at", "request_id", "note",
	"error_code", "error", "error_request_id",
	"account_reason", "account_error_code", "account_error", "account_request_id", "remaining",
	"after_access_keys", "after_signing_certificates", "after_password", "after_mfa_devices",
	"mode", "plan_digest",
}

// remediationCSVWriter writes one record per action, with the account's
// columns repeated so that each record stands alone in a filter or a
// pivot table, and one record for an account with no action. Cells are
// the report's values, defused and quoted as the scan's CSV does (csvCell,
// csvField).
type remediationCSVWriter struct {
	w io.Writer
	remediationCloser
}

func (*remediationCSVWriter) WriteAccount(*remediate.Account) error { return nil }

func (c *remediationCSVWriter) Close(rep *remediate.Report) error {
	if err := c.begin(FormatCSV, rep); err != nil {
		return err
	}
	bw := bufio.NewWriter(c.w)
	writeCSVRecord(bw, remediationCSVColumns)
	m := &rep.Remediation
	rec := make([]string, 0, len(remediationCSVColumns))
	for _, a := range sortedAccounts(rep) {
		actions := a.Actions
		if len(actions) == 0 {
			actions = []remediate.Action{{}}
		}
		for i := range actions {
			rec = remediationCSVRecord(rec[:0], a, &actions[i], m)
			for j := range rec {
				rec[j] = csvCell(rec[j])
			}
			writeCSVRecord(bw, rec)
		}
	}
	return flushRemediation(bw, "csv")
}

func remediationCSVRecord(rec []string, a *remediate.Account, x *remediate.Action, m *remediate.Meta) []string {
	rec = append(rec, a.AccountID, a.AccountName, a.OUPath, a.State, a.Status,
		x.Kind, x.ID, x.Decision, x.Hold, x.HoldDetail, x.Outcome, csvTime(x.At), x.RequestID, x.Note)
	rec = appendCSVError(rec, x.Error)
	rec = append(rec, a.Reason)
	rec = appendCSVError(rec, a.Error)
	rec = append(rec, strings.Join(a.Remaining, ";"))
	if rc := a.After; rc != nil {
		rec = append(rec, strconv.Itoa(len(rc.AccessKeys)), strconv.Itoa(len(rc.SigningCertificates)),
			csvBool(rc.Password.Present), strconv.Itoa(len(rc.MFA.Devices)))
	} else {
		rec = append(rec, "", "", "", "")
	}
	return append(rec, m.Mode, m.Plan.Digest)
}

func appendCSVError(rec []string, e *remediate.Error) []string {
	if e == nil {
		return append(rec, "", "", "")
	}
	return append(rec, e.Code, e.Message, e.RequestID)
}
