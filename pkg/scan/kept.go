package scan

import (
	"cmp"
	"encoding/binary"
	"iter"
	"maps"
	"slices"
	"time"
	"unique"
)

// keptRows holds a scan's rows compactly until its report is written
// (Config.CompactRows): a sorted format needs every row at the end, but
// not as a Row each. A kept row is three values: one string with the
// account's own text, times and summary counters, one interned string
// with what many accounts share (OU path, state, status, access method,
// error code, hint, tags, security contact, findings), and the summary's
// interned keys; the few rows with details or a failed lookup keep them
// aside. Rows live in fixed-size chunks, so
// that keeping one more never copies those already kept, and the report
// decodes each Row when it is reached (RowList).
type keptRows struct {
	chunks [][]keptRow
	n      int
}

// keptChunk is the number of rows per chunk: large enough that the chunk
// list stays short, small enough that the last chunk's unused room is
// negligible next to the rows.
const keptChunk = 256

type keptRow struct {
	// own is the account id, name, email and error message (each as its
	// length and bytes), the times in UTC that are set (seconds and
	// nanoseconds), the number of summary counters, and to the end the
	// summary's counters as Summary holds them.
	own string
	// shared is the OU path, state, joined method, access method, status,
	// error code and hint (each as its length and bytes), the tags when
	// they were read (their number, then each key and value, by key), the
	// security contact when there is one (name, email, title, phone), and
	// to the end the findings (a list of strings).
	shared      unique.Handle[string]
	summaryKeys unique.Handle[string]
	extra       *keptExtra // nil for most rows
	bits        keptBits
}

// keptExtra is what few rows have.
type keptExtra struct {
	details      *RootCredentials
	detailsError *DetailsError
	tagsError    *LookupError
	contactError *LookupError
	// Times that are not plain UTC instants keep their location.
	joinedAt, scannedAt time.Time
}

// keptBits holds the four summary flags, two bits each (none, false,
// true), and which optional values are present and where.
type keptBits uint16

const (
	bitJoinedAt keptBits = 1 << (8 + iota)
	bitJoinedAtExtra
	bitScannedAt
	bitScannedAtExtra
	bitFindings
	bitSummary
	bitTags
	bitContact
)

// Where each summary flag's two bits start.
const (
	shiftKeys = 2 * iota
	shiftCerts
	shiftPassword
	shiftMFA
)

func (b *keptBits) setFlag(shift int, v *bool) {
	switch {
	case v == nil:
	case *v:
		*b |= 2 << shift
	default:
		*b |= 1 << shift
	}
}

func (b keptBits) flag(shift int) *bool {
	switch b >> shift & 3 {
	case 1:
		return new(false)
	case 2:
		return new(true)
	}
	return nil
}

func (k *keptRows) add(r *Row) {
	if k.n%keptChunk == 0 {
		k.chunks = append(k.chunks, make([]keptRow, 0, keptChunk))
	}
	last := &k.chunks[len(k.chunks)-1]
	*last = append(*last, keep(r))
	k.n++
}

func (k *keptRows) at(i int) *keptRow { return &k.chunks[i/keptChunk][i%keptChunk] }

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// nextString reads what appendString wrote at the start of s.
func nextString(s string) (v, rest string) {
	n, w := uvarint(s)
	return s[w : w+n], s[w+n:]
}

// plainUTC tells whether t is an instant in UTC without a monotonic
// reading, which its Unix time gives back exactly.
func plainUTC(t time.Time) bool { return t.Location() == time.UTC && t == t.Round(0) }

func keep(r *Row) keptRow {
	k := keptRow{}
	extra := keptExtra{details: r.RootCredentials, detailsError: r.DetailsError, tagsError: r.TagsError, contactError: r.ContactError}
	own := make([]byte, 0, len(r.AccountID)+len(r.AccountName)+len(r.Email)+len(r.Error)+len(r.Summary.values)+32)
	for _, s := range []string{r.AccountID, r.AccountName, r.Email, r.Error} {
		own = appendString(own, s)
	}
	for _, t := range []struct {
		at           *time.Time
		set, inExtra keptBits
		extra        *time.Time
	}{
		{r.JoinedAt, bitJoinedAt, bitJoinedAtExtra, &extra.joinedAt},
		{r.ScannedAt, bitScannedAt, bitScannedAtExtra, &extra.scannedAt},
	} {
		switch {
		case t.at == nil:
		case plainUTC(*t.at):
			k.bits |= t.set
			own = binary.AppendVarint(own, t.at.Unix())
			own = binary.AppendUvarint(own, uint64(t.at.Nanosecond()))
		default:
			k.bits |= t.set | t.inExtra
			*t.extra = *t.at
		}
	}
	if !r.Summary.IsZero() {
		k.bits |= bitSummary
		k.summaryKeys = r.Summary.keys
		own = binary.AppendUvarint(own, uint64(r.Summary.n))
		own = append(own, r.Summary.values...)
	}
	k.own = string(own)

	var shared []byte
	for _, s := range []string{r.OUPath, r.State, r.JoinedMethod, r.AccessMethod, r.Status, r.ErrorCode, string(r.Hint)} {
		shared = appendString(shared, s)
	}
	if r.Tags != nil {
		k.bits |= bitTags
		shared = binary.AppendUvarint(shared, uint64(len(r.Tags)))
		for _, key := range slices.Sorted(maps.Keys(r.Tags)) {
			shared = appendString(appendString(shared, key), r.Tags[key])
		}
	}
	if c := r.SecurityContact; c != nil {
		k.bits |= bitContact
		for _, s := range []string{c.Name, c.Email, c.Title, c.Phone} {
			shared = appendString(shared, s)
		}
	}
	if r.Findings != nil {
		k.bits |= bitFindings
		var findings []byte
		for _, f := range r.Findings {
			findings = appendString(findings, f)
		}
		shared = append(shared, findings...)
	}
	k.shared = unique.Make(string(shared))

	k.bits.setFlag(shiftKeys, r.RootAccessKeys)
	k.bits.setFlag(shiftCerts, r.RootSigningCertificates)
	k.bits.setFlag(shiftPassword, r.RootPassword)
	k.bits.setFlag(shiftMFA, r.RootMFA)
	if extra != (keptExtra{}) {
		k.extra = &extra
	}
	return k
}

// id is the kept row's account id.
func (k *keptRow) id() string {
	id, _ := nextString(k.own)
	return id
}

// row decodes a kept row into a Row of its own, which shares only the
// kept row's details and (read-only) text.
func (k *keptRow) row() *Row {
	r := &Row{
		RootAccessKeys:          k.bits.flag(shiftKeys),
		RootSigningCertificates: k.bits.flag(shiftCerts),
		RootPassword:            k.bits.flag(shiftPassword),
		RootMFA:                 k.bits.flag(shiftMFA),
	}
	own := k.own
	r.AccountID, own = nextString(own)
	r.AccountName, own = nextString(own)
	r.Email, own = nextString(own)
	r.Error, own = nextString(own)
	extra := k.extra
	if extra == nil {
		extra = &keptExtra{}
	}
	r.RootCredentials, r.DetailsError = extra.details, extra.detailsError
	r.TagsError, r.ContactError = extra.tagsError, extra.contactError
	for _, t := range []struct {
		at           **time.Time
		set, inExtra keptBits
		extra        time.Time
	}{
		{&r.JoinedAt, bitJoinedAt, bitJoinedAtExtra, extra.joinedAt},
		{&r.ScannedAt, bitScannedAt, bitScannedAtExtra, extra.scannedAt},
	} {
		switch {
		case k.bits&t.set == 0:
		case k.bits&t.inExtra != 0:
			*t.at = new(t.extra)
		default:
			sec, w := varint(own)
			own = own[w:]
			nsec, w := uvarint(own)
			own = own[w:]
			*t.at = new(time.Unix(sec, int64(nsec)).UTC())
		}
	}
	if k.bits&bitSummary != 0 {
		n, w := uvarint(own)
		r.Summary = Summary{keys: k.summaryKeys, values: own[w:], n: int32(n)}
	}

	shared := k.shared.Value()
	var hint string
	for _, f := range []*string{&r.OUPath, &r.State, &r.JoinedMethod, &r.AccessMethod, &r.Status, &r.ErrorCode, &hint} {
		*f, shared = nextString(shared)
	}
	r.Hint = Hint(hint)
	if k.bits&bitTags != 0 {
		n, w := uvarint(shared)
		shared = shared[w:]
		r.Tags = make(map[string]string, n)
		for range n {
			var key, value string
			key, shared = nextString(shared)
			value, shared = nextString(shared)
			r.Tags[key] = value
		}
	}
	if k.bits&bitContact != 0 {
		c := &Contact{}
		for _, f := range []*string{&c.Name, &c.Email, &c.Title, &c.Phone} {
			*f, shared = nextString(shared)
		}
		r.SecurityContact = c
	}
	if k.bits&bitFindings != 0 {
		r.Findings = []string{}
		for shared != "" {
			var f string
			f, shared = nextString(shared)
			r.Findings = append(r.Findings, f)
		}
	}
	return r
}

// RowList is a report's accounts in account-id order, whether the report
// holds them as Rows (Report.Accounts) or a scan kept them compactly
// (Config.CompactRows). A kept row is decoded anew each time it is
// reached: the Row is the caller's, and costs memory only while the caller
// holds it.
type RowList struct {
	accounts []Row
	kept     *keptRows
	// order maps a position to the row: below len(accounts) an index into
	// accounts, from there one into kept.
	order []int32
}

// Rows lists the report's accounts in account-id order; accounts listed
// twice keep their order. Writers of sorted formats read the report
// through it.
func (r *Report) Rows() *RowList {
	l := &RowList{accounts: r.Accounts, kept: r.kept}
	n := len(r.Accounts)
	if l.kept != nil {
		n += l.kept.n
	}
	l.order = make([]int32, n)
	for i := range l.order {
		l.order[i] = int32(i)
	}
	slices.SortStableFunc(l.order, func(a, b int32) int { return cmp.Compare(l.id(int(a)), l.id(int(b))) })
	return l
}

func (l *RowList) id(i int) string {
	if i < len(l.accounts) {
		return l.accounts[i].AccountID
	}
	return l.kept.at(i - len(l.accounts)).id()
}

// Len is the number of accounts.
func (l *RowList) Len() int { return len(l.order) }

// At returns the i-th account in account-id order.
func (l *RowList) At(i int) *Row {
	j := int(l.order[i])
	if j < len(l.accounts) {
		return &l.accounts[j]
	}
	return l.kept.at(j - len(l.accounts)).row()
}

// All yields every account in account-id order.
func (l *RowList) All() iter.Seq[*Row] {
	return func(yield func(*Row) bool) {
		for i := range l.order {
			if !yield(l.At(i)) {
				return
			}
		}
	}
}
