package diff

import (
	"slices"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

func TestOwnerOfAChange(t *testing.T) {
	tagged := func(owner string) *scan.Row {
		return &scan.Row{AccountID: "100000000001", Status: scan.StatusOK, Tags: map[string]string{"owner": owner}}
	}
	unread := &scan.Row{AccountID: "100000000001", Status: scan.StatusNotScanned}
	for _, tc := range []struct {
		name     string
		old, new *scan.Row
		want     string
	}{
		{"the new report's row names the owner", tagged("before"), tagged("after"), "after"},
		{"a joined account's new row", nil, tagged("after"), "after"},
		{"a left account's old row", tagged("before"), nil, "before"},
		{"a new row that knows nothing of its owner defers to the old one", tagged("before"), unread, "before"},
		{"a new row whose tags were read, none of them the owner's, does not defer",
			tagged("before"), &scan.Row{Tags: map[string]string{}}, scan.Unowned},
		{"a new row whose tags could not be read does not defer",
			tagged("before"), &scan.Row{TagsError: &scan.LookupError{Code: "Throttled"}}, "unknown (tags not read: Throttled)"},
		{"a new row with a contact does not defer", tagged("before"),
			&scan.Row{SecurityContact: &scan.Contact{Email: "sec@example.com"}}, "sec@example.com"},
		{"a joined account that knows nothing is unowned", nil, unread, scan.Unowned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ownerOf(&Change{Old: tc.old, New: tc.new}, "owner"); got.Name != tc.want {
				t.Errorf("owner %q, want %q", got.Name, tc.want)
			}
		})
	}
}

func TestByOwnerOrdersTheWorkQueue(t *testing.T) {
	row := func(id, owner string, findings ...string) scan.Row {
		r := acct(id, "acct-"+id[8:], "Root", findings...)
		if owner != "" {
			r.Tags = map[string]string{"owner": owner}
		}
		return r
	}
	oldDoc := &Document{Rows: []scan.Row{
		row("100000000001", "zeta", scan.FindingRootSigningCertificate),
		row("100000000002", "gamma", scan.FindingRootAccessKey),
		failed(row("100000000005", "beta", scan.FindingRootAccessKey), scan.CodeAccessDenied, "denied"),
	}}
	newDoc := &Document{Rows: []scan.Row{
		// zeta: one critical new finding, a high one resolved.
		row("100000000001", "zeta", scan.FindingRootNoMFA),
		// alpha: two accounts, a medium and a critical one; the critical
		// comes first.
		row("100000000003", "alpha", scan.FindingCredentialOld),
		row("100000000004", "alpha", scan.FindingKeyUsedRecently, scan.FindingRootAccessKey),
		// gamma: a finding resolved, none new.
		row("100000000002", "gamma"),
		// beta: its account was read again, a finding this version does
		// not know is new.
		row("100000000005", "beta", "from-a-newer-orgscan"),
		// delta: not read, so its old finding is unverified.
		failed(row("100000000006", "delta"), scan.CodeAccessDenied, "denied"),
	}}
	oldDoc.Rows = append(oldDoc.Rows, row("100000000006", "delta", scan.FindingRootPassword))
	shares, tagged := byOwner(Compare(oldDoc, newDoc), "owner")
	if !tagged {
		t.Error("tagged = false, want true: the rows have tags")
	}
	type share struct {
		label                       string
		added, resolved, unverified int
		ids                         []string
	}
	var got []share
	for _, s := range shares {
		g := share{label: s.label, added: s.added, resolved: s.resolved, unverified: s.unverified}
		for _, c := range s.changes {
			g.ids = append(g.ids, c.AccountID)
		}
		got = append(got, g)
	}
	// Unknown findings rank above critical; among critical owners, more
	// new findings first; then owners with unverified findings, then by
	// name.
	want := []share{
		{"beta", 1, 0, 0, []string{"100000000005"}},
		{"alpha", 3, 0, 0, []string{"100000000004", "100000000003"}},
		{"zeta", 1, 1, 0, []string{"100000000001"}},
		{"delta", 0, 0, 1, []string{"100000000006"}},
		{"gamma", 0, 1, 0, []string{"100000000002"}},
	}
	if !slices.EqualFunc(got, want, func(a, b share) bool {
		return a.label == b.label && a.added == b.added && a.resolved == b.resolved && a.unverified == b.unverified && slices.Equal(a.ids, b.ids)
	}) {
		t.Errorf("shares\n%+v\nwant\n%+v", got, want)
	}
}
