package output

import (
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// rowView is what one account shows, worked out once from its row: the
// sanitized text of every cell, its severity and its problems. The table,
// the CSV and the HTML report render it; none of them derives display text
// from a row on its own, so they cannot drift apart. Styling (SGR codes,
// CSS classes) and layout stay with each renderer.
type rowView struct {
	// row is the account behind the view, for the CSV's data columns,
	// which carry values rather than display text.
	row *scan.Row

	// ID, OU, State, Access and Status read "-" when AWS gave nothing;
	// Name and Email stay empty, since the HTML report shows them together.
	ID, Name, Email, OU, State, Access string
	Keys, Certs, MFA, Password         flagView
	Status                             string
	// StatusKind is the row's status when this version defines it, else
	// statusOther: what renderers style by.
	StatusKind string

	Findings []string
	// Severity is the highest of the findings' severities: "" without
	// findings, "unknown" when only findings this version does not define
	// are present (a report from a newer orgscan read back).
	Severity string
	// severityRank orders rows by Severity; undefined findings could be
	// anything, so they rank above every defined severity.
	severityRank int

	// Error is the row's own error, DetailsError why an ok row has no
	// details; nil when there is none.
	Error, DetailsError *problemView
	// TagsError and ContactError say why the account's tags or security
	// contact could not be read; nil when they were, or when their columns
	// are not shown.
	TagsError, ContactError *problemView

	// The detail cells, filled only when details are shown.
	KeyAge, KeyLastUsed, PwdLastUsed detailView

	// Tags are the cells of the tag columns, in their order: the tag's
	// value, "-" when the account has no such tag, "?" when its tags are
	// unknown (not read, or the lookup failed).
	Tags []string
	// Contact is the security contact's cell, filled only when contacts
	// are shown: its name and e-mail ("Name <e-mail>"), "-" when the
	// account has none, "?" when it is unknown. ContactTitle is its
	// title. The phone number is never shown here.
	Contact, ContactTitle string
}

// statusOther is the StatusKind of a status this version does not define.
const statusOther = "other"

// flagView is one of the four summary flags: "yes", "no" or "?" (unknown).
// Whether it is a risk depends on the other flags; the findings say so.
type flagView struct{ Text, Class string }

// problemView is an error code and message, sanitized; either may be empty.
type problemView struct{ Code, Message string }

// Text is the problem on one line: "code: message", or whichever is set.
func (p *problemView) Text() string {
	if p.Message == "" {
		return p.Code
	}
	return strings.TrimPrefix(p.Code+": "+p.Message, ": ")
}

// detailView is a detail cell: its text ("?" unknown, "-" no such
// credential), where a key was last used (service/region) and the key it
// sorts by.
type detailView struct{ Text, Where, Key string }

// TextWhere is the cell on one line, the place after the time.
func (d detailView) TextWhere() string {
	if d.Where == "" {
		return d.Text
	}
	return d.Text + " " + d.Where
}

// viewOptions say what a renderer shows.
type viewOptions struct {
	details bool
	// tagColumns are the tag keys shown as columns (Options.TagColumns).
	tagColumns []string
	// contacts shows the security contact: the report says contacts were
	// read (scan.OptionsUsed.Contacts).
	contacts bool
	// when writes a time in a detail cell: a date, or on a terminal a
	// relative time.
	when func(time.Time) string
}

// dateOnly writes a time as its UTC date: output that must not depend on
// when it was printed.
func dateOnly(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// newRowView works out what r shows. finished stands in for the details'
// as-of time when they carry none.
func newRowView(r *scan.Row, finished time.Time, o viewOptions) rowView {
	v := rowView{
		row:        r,
		ID:         orDash(Sanitize(r.AccountID)),
		Name:       Sanitize(r.AccountName),
		Email:      Sanitize(r.Email),
		OU:         orDash(Sanitize(r.OUPath)),
		State:      orDash(Sanitize(r.State)),
		Access:     orDash(Sanitize(r.AccessMethod)),
		Keys:       flagOf(r.RootAccessKeys),
		Certs:      flagOf(r.RootSigningCertificates),
		MFA:        flagOf(r.RootMFA),
		Password:   flagOf(r.RootPassword),
		Status:     orDash(Sanitize(r.Status)),
		StatusKind: statusOther,
		Severity:   rowSeverity(r),
	}
	switch r.Status {
	case scan.StatusOK, scan.StatusError, scan.StatusSkipped, scan.StatusNotScanned:
		v.StatusKind = r.Status
	}
	if len(r.Findings) > 0 {
		v.Findings = make([]string, len(r.Findings))
		for i, f := range r.Findings {
			v.Findings[i] = Sanitize(f)
		}
	}
	v.severityRank = scan.Severity(v.Severity).Rank()
	if v.Severity == "unknown" {
		v.severityRank = len(scan.Severities()) + 1
	}
	if r.ErrorCode != "" || r.Error != "" {
		v.Error = &problemView{Code: Sanitize(r.ErrorCode), Message: Sanitize(r.Error)}
	}
	if d := r.DetailsError; d != nil {
		v.DetailsError = &problemView{Code: Sanitize(d.Code), Message: Sanitize(d.Message)}
	}
	if o.details {
		v.KeyAge, v.KeyLastUsed, v.PwdLastUsed = detailViews(r.RootCredentials, finished, o.when)
	}
	// A failed lookup is said where its columns are shown.
	if e := r.TagsError; e != nil && len(o.tagColumns) > 0 {
		v.TagsError = &problemView{Code: Sanitize(e.Code), Message: Sanitize(e.Message)}
	}
	if e := r.ContactError; e != nil && o.contacts {
		v.ContactError = &problemView{Code: Sanitize(e.Code), Message: Sanitize(e.Message)}
	}
	if len(o.tagColumns) > 0 {
		v.Tags = make([]string, len(o.tagColumns))
		for i, k := range o.tagColumns {
			value, ok := r.Tags[k]
			switch {
			case r.Tags == nil:
				v.Tags[i] = "?"
			case !ok:
				v.Tags[i] = "-"
			default:
				v.Tags[i] = orDash(Sanitize(value))
			}
		}
	}
	if o.contacts {
		v.Contact, v.ContactTitle = contactCell(r)
	}
	return v
}

// contactCell is the security contact on one line, without its phone
// number, and its title.
func contactCell(r *scan.Row) (cell, title string) {
	c := r.SecurityContact
	switch {
	case c != nil:
		name, email := Sanitize(c.Name), Sanitize(c.Email)
		switch {
		case name != "" && email != "":
			cell = name + " <" + email + ">"
		default:
			cell = orDash(name + email)
		}
		return cell, Sanitize(c.Title)
	case r.ContactRead() && r.ContactError == nil:
		return "-", ""
	}
	return "?", ""
}

// ownerHeaders are the titles of the owner columns: each tag key, then the
// security contact when shown.
func (o viewOptions) ownerHeaders() []string {
	out := make([]string, 0, len(o.tagColumns)+1)
	for _, k := range o.tagColumns {
		out = append(out, Sanitize(k))
	}
	if o.contacts {
		out = append(out, "security contact")
	}
	return out
}

func flagOf(b *bool) flagView {
	switch {
	case b == nil:
		return flagView{Text: "?", Class: "unknown"}
	case *b:
		return flagView{Text: "yes", Class: "yes"}
	}
	return flagView{Text: "no", Class: "no"}
}

// Sort keys of the detail cells: a key age sorts by days, unknown below
// zero and no key below that; a last use sorts by date, "never" before any
// date and no credential or unknown before that.
const (
	keyAgeUnknown = "-1"
	keyAgeNone    = "-2"
	lastUsedNever = "1"
	lastUsedNone  = "0"
)

// detailViews are KEY AGE (the oldest key, at the details' as-of time so
// that the cell does not change with when it is printed), KEY LAST USED
// (the most recent use of any key) and PWD LAST USED.
func detailViews(rc *scan.RootCredentials, finished time.Time, when func(time.Time) string) (age, used, pwd detailView) {
	if rc == nil {
		return detailView{Text: "?", Key: keyAgeUnknown}, detailView{Text: "?", Key: lastUsedNone}, detailView{Text: "?", Key: lastUsedNone}
	}
	asOf := rc.AsOf
	if asOf.IsZero() {
		asOf = finished
	}
	age = detailView{Text: "-", Key: keyAgeNone}
	used = detailView{Text: "-", Key: lastUsedNone}
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
		age = detailView{Text: "?", Key: keyAgeUnknown}
		if oldest != nil && !unknownAge {
			days := strconv.Itoa(max(0, int(asOf.Sub(*oldest)/(24*time.Hour))))
			age = detailView{Text: days + "d", Key: days}
		}
		used = detailView{Text: "never", Key: lastUsedNever}
		if last != nil {
			used = detailView{
				Text:  when(*last.LastUsedAt),
				Where: strings.Trim(Sanitize(last.LastUsedService)+"/"+Sanitize(last.LastUsedRegion), "/"),
				Key:   dateOnly(*last.LastUsedAt),
			}
		}
	}
	switch p := rc.Password; {
	case p.Present == nil:
		pwd = detailView{Text: "?", Key: lastUsedNone}
	case !*p.Present:
		pwd = detailView{Text: "-", Key: lastUsedNone}
	case p.LastUsedAt == nil:
		pwd = detailView{Text: "never", Key: lastUsedNever}
	default:
		pwd = detailView{Text: when(*p.LastUsedAt), Key: dateOnly(*p.LastUsedAt)}
	}
	return age, used, pwd
}
