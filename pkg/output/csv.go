package output

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	"findings", "severity", "error_code", "error", "scanned_at",
}

// csvColumns is the CSV header, in order. With details it adds the
// flattened root_credentials: per access key (1 and 2) id, active,
// created_at, last_used_at, last_used_service and last_used_region; per
// signing certificate (1 and 2) id, active and uploaded_at; then
// root_mfa_devices, root_password_last_used_at, details_source,
// details_as_of, and details_error_code and details_error, which say why
// an ok row has no details. The owner columns follow (csvOwnerColumns).
func csvColumns(details bool) []string {
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
	return append(cols, "root_mfa_devices", "root_password_last_used_at", "details_source", "details_as_of",
		"details_error_code", "details_error")
}

// csvOwnerColumns are the columns that name the account's owners, last so
// that the others keep their places: "tag:" and each tag key asked for,
// then tags_error_code and tags_error; with a report whose scan read
// contacts, the security contact's name, e-mail and title (its phone
// number only in JSON) and security_contact_error_code and
// security_contact_error.
func csvOwnerColumns(vo viewOptions) []string {
	var cols []string
	for _, k := range vo.tagColumns {
		cols = append(cols, "tag:"+k)
	}
	if len(vo.tagColumns) > 0 {
		cols = append(cols, "tags_error_code", "tags_error")
	}
	if vo.contacts {
		cols = append(cols, "security_contact_name", "security_contact_email", "security_contact_title",
			"security_contact_error_code", "security_contact_error")
	}
	return cols
}

// csvWriter writes RFC 4180 CSV: a header, then one record per account,
// each ended by CRLF, quoted where needed and defused against formula
// injection (see csvCell and csvField).
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
	bw := bufio.NewWriter(c.w)
	vo := c.o.viewOptions(rep)
	header := append(csvColumns(c.o.Details), csvOwnerColumns(vo)...)
	for i := range header {
		// Tag keys come from outside.
		header[i] = csvCell(header[i])
	}
	writeCSVRecord(bw, header)
	rec := make([]string, 0, len(header))
	for r := range rep.Rows().All() {
		v := newRowView(r, rep.Scan.FinishedAt, viewOptions{})
		var err error
		if rec, err = csvRecord(rec[:0], &v, c.o.Details); err != nil {
			return err
		}
		rec = csvOwnerRecord(rec, r, vo)
		for i := range rec {
			rec[i] = csvCell(rec[i])
		}
		writeCSVRecord(bw, rec)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write csv report: %w", err)
	}
	return nil
}

// writeCSVRecord writes one record; bw keeps the first error for Flush.
// encoding/csv cannot be told to quote a field for a semicolon, hence this.
func writeCSVRecord(bw *bufio.Writer, rec []string) {
	for i, f := range rec {
		if i > 0 {
			bw.WriteByte(',')
		}
		csvField(bw, f)
	}
	bw.WriteString("\r\n")
}

// csvField quotes a field that holds a separator, a quote or a line break,
// that starts with a space, or that is PostgreSQL COPY's end-of-data
// marker, as encoding/csv does, and doubles its quotes (RFC 4180). The
// separator is a semicolon in locales whose decimal mark is a comma, and a
// spreadsheet there splits an unquoted "a;=cmd|..." into a second cell that
// is a formula: OWASP's CSV injection guidance
// (https://owasp.org/www-community/attacks/CSV_Injection) asks to guard
// both separators and both quotes, and its own escaped examples are wrapped
// in double quotes, as a cell that gets csvCell's apostrophe is here.
func csvField(bw *bufio.Writer, f string) {
	r, _ := utf8.DecodeRuneInString(f)
	if !strings.ContainsAny(f, ",;\"'\r\n") && !unicode.IsSpace(r) && f != `\.` {
		bw.WriteString(f)
		return
	}
	bw.WriteByte('"')
	bw.WriteString(strings.ReplaceAll(f, `"`, `""`))
	bw.WriteByte('"')
}

// csvRecord is a row's record. The CSV is for programs as much as people:
// its cells are the row's values as they are (RFC 3339 times, true or
// false, empty when unknown), made safe by csvCell, which must see them
// before sanitizing; only the severity, a value derived for display, comes
// from the view.
func csvRecord(rec []string, v *rowView, details bool) ([]string, error) {
	r := v.row
	rec = append(rec,
		r.AccountID, r.AccountName, r.Email, r.OUPath, r.State,
		r.JoinedMethod, csvTime(r.JoinedAt), r.AccessMethod, r.Status,
		csvBool(r.RootAccessKeys), csvBool(r.RootSigningCertificates), csvBool(r.RootPassword), csvBool(r.RootMFA),
		strings.Join(r.Findings, ";"), v.Severity, r.ErrorCode, r.Error, csvTime(r.ScannedAt),
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
	var errCode, errMsg string
	if e := r.DetailsError; e != nil {
		errCode, errMsg = e.Code, e.Message
	}
	return append(rec, strings.Join(devices, ";"), csvTime(rc.Password.LastUsedAt), rc.Source, asOf, errCode, errMsg), nil
}

// csvOwnerRecord appends the owner cells of a row, its values as they are
// (made safe by csvCell like every cell): a tag's value, empty when the
// account has no such tag or its tags are unknown, which tags_error then
// says.
func csvOwnerRecord(rec []string, r *scan.Row, vo viewOptions) []string {
	for _, k := range vo.tagColumns {
		rec = append(rec, r.Tags[k])
	}
	lookupError := func(e *scan.LookupError) (string, string) {
		if e == nil {
			return "", ""
		}
		return e.Code, e.Message
	}
	if len(vo.tagColumns) > 0 {
		code, msg := lookupError(r.TagsError)
		rec = append(rec, code, msg)
	}
	if vo.contacts {
		c := r.SecurityContact
		if c == nil {
			c = &scan.Contact{}
		}
		code, msg := lookupError(r.ContactError)
		rec = append(rec, c.Name, c.Email, c.Title, code, msg)
	}
	return rec
}

// csvCell makes one cell safe to open. Spreadsheets run a cell that starts
// with =, +, - or @ as a formula, and OWASP's CSV injection guidance adds a
// leading tab, carriage return or line feed; such a cell gets a leading
// apostrophe, which spreadsheets show as text. Leading whitespace, Unicode's
// included (a no-break or an ideographic space), does not hide a formula
// sign, nor does the sign's full-width or small form, which spreadsheets
// with East Asian input read as the sign itself. Controls go too (see
// Sanitize): a CSV is also read with cat and less, and one record per line
// suits grep. Applied to every cell, since names, emails, OU names and error
// messages all come from outside; no value orgscan makes itself starts with
// these.
func csvCell(s string) string {
	lead := s != "" && strings.IndexByte("\t\r\n", s[0]) >= 0
	s = Sanitize(s)
	if r, _ := utf8.DecodeRuneInString(strings.TrimLeftFunc(s, unicode.IsSpace)); lead || isFormulaSign(r) {
		return "'" + s
	}
	return s
}

// isFormulaSign tells whether r is =, +, - or @ in any of the forms
// Unicode gives them: ASCII, full-width (U+FF1D, U+FF0B, U+FF0D, U+FF20)
// and small (U+FE66, U+FE62, U+FE63, U+FE6B).
func isFormulaSign(r rune) bool {
	switch r {
	case '=', '+', '-', '@', '＝', '＋', '－', '＠', '﹦', '﹢', '﹣', '﹫':
		return true
	}
	return false
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
