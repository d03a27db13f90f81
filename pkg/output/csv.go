package output

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// IAM allows a user, the root user included, at most two access keys and
// two signing certificates; the CSV has columns for exactly that many.
const (
	csvMaxKeys  = 2
	csvMaxCerts = 2
)

var csvBaseColumns = []string{
	"account_id", "account_name", "email", "ou_path", "state",
	"joined_method", "joined_at", "access_method", "status",
	"root_access_keys", "root_signing_certificates", "root_password", "root_mfa",
	"findings", "error_code", "error", "scanned_at",
}

// CSVColumns is the CSV header, in order. With details it adds the
// flattened root_credentials: per access key (1 and 2) id, active,
// created_at, last_used_at, last_used_service and last_used_region; per
// signing certificate (1 and 2) id, active and uploaded_at; then
// root_mfa_devices, root_password_last_used_at, details_source and
// details_as_of.
func CSVColumns(details bool) []string {
	cols := append([]string(nil), csvBaseColumns...)
	if !details {
		return cols
	}
	for k := 1; k <= csvMaxKeys; k++ {
		p := "root_key_" + strconv.Itoa(k) + "_"
		cols = append(cols, p+"id", p+"active", p+"created_at", p+"last_used_at", p+"last_used_service", p+"last_used_region")
	}
	for c := 1; c <= csvMaxCerts; c++ {
		p := "root_cert_" + strconv.Itoa(c) + "_"
		cols = append(cols, p+"id", p+"active", p+"uploaded_at")
	}
	return append(cols, "root_mfa_devices", "root_password_last_used_at", "details_source", "details_as_of")
}

// csvWriter writes RFC 4180 CSV (with encoding/csv's LF line ends): a
// header, then one record per account, quoted where needed and defused
// against formula injection (see csvCell).
type csvWriter struct {
	w io.Writer
	o Options
	closer
}

func (*csvWriter) WriteRow(*scan.Row) error { return nil }

func (c *csvWriter) Close(rep *scan.Report) error {
	if err := c.begin(FormatCSV, rep); err != nil {
		return err
	}
	cw := csv.NewWriter(c.w)
	// RFC 4180 ends records with CRLF; spreadsheets expect it.
	cw.UseCRLF = true
	header := CSVColumns(c.o.Details)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write csv header: %w", err)
	}
	rec := make([]string, 0, len(header))
	for _, r := range sortedRows(rep) {
		var err error
		if rec, err = csvRecord(rec[:0], r, c.o.Details); err != nil {
			return err
		}
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("write csv row for account %s: %w", r.AccountID, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

func csvRecord(rec []string, r *scan.Row, details bool) ([]string, error) {
	rec = append(rec,
		r.AccountID, r.AccountName, r.Email, r.OUPath, r.State,
		r.JoinedMethod, csvTime(r.JoinedAt), r.AccessMethod, r.Status,
		csvBool(r.RootAccessKeys), csvBool(r.RootSigningCertificates), csvBool(r.RootPassword), csvBool(r.RootMFA),
		strings.Join(r.Findings, ";"), r.ErrorCode, r.Error, csvTime(r.ScannedAt),
	)
	if !details {
		return rec, nil
	}
	rc := r.RootCredentials
	if rc == nil {
		rc = &scan.RootCredentials{}
	}
	if len(rc.AccessKeys) > csvMaxKeys || len(rc.SigningCertificates) > csvMaxCerts {
		// IAM never returns more; a row that has them is a scanner bug,
		// and dropping a credential from an audit silently would be worse.
		return nil, fmt.Errorf("csv row for account %s: %d root access keys and %d signing certificates, but the csv has columns for %d of each",
			r.AccountID, len(rc.AccessKeys), len(rc.SigningCertificates), csvMaxKeys)
	}
	for k := range csvMaxKeys {
		if k >= len(rc.AccessKeys) {
			rec = append(rec, "", "", "", "", "", "")
			continue
		}
		key := &rc.AccessKeys[k]
		rec = append(rec, key.ID, strconv.FormatBool(key.Active), csvTime(key.CreatedAt),
			csvTime(key.LastUsedAt), key.LastUsedService, key.LastUsedRegion)
	}
	for c := range csvMaxCerts {
		if c >= len(rc.SigningCertificates) {
			rec = append(rec, "", "", "")
			continue
		}
		cert := &rc.SigningCertificates[c]
		rec = append(rec, cert.ID, strconv.FormatBool(cert.Active), csvTime(cert.UploadedAt))
	}
	devices := make([]string, len(rc.MFA.Devices))
	for i, d := range rc.MFA.Devices {
		devices[i] = d.Serial
		if d.Type != "" {
			devices[i] += " (" + d.Type + ")"
		}
	}
	asOf := ""
	if r.RootCredentials != nil && !rc.AsOf.IsZero() {
		asOf = csvTime(&rc.AsOf)
	}
	return append(rec, strings.Join(devices, ";"), csvTime(rc.Password.LastUsedAt), rc.Source, asOf), nil
}

// csvCell makes one cell safe to open. Spreadsheets run a cell that
// starts with =, +, - or @ as a formula (a leading tab, CR or space can
// hide one), so such a cell gets a leading apostrophe, which they show as
// text. Controls go too (see Sanitize): a CSV is also read with cat and
// less, and one record per line suits grep. Applied to every cell, since
// names, emails, OU names and error messages all come from outside; no
// value orgscan makes itself starts with these.
func csvCell(s string) string {
	s = Sanitize(s)
	if t := strings.TrimLeft(s, " "); t != "" && strings.IndexByte("=+-@", t[0]) >= 0 {
		return "'" + s
	}
	return s
}

func csvBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
