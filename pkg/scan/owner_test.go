package scan

import (
	"strings"
	"testing"
)

func TestRowOwner(t *testing.T) {
	denied := &LookupError{Code: "AccessDenied", Message: "not authorized"}
	contact := &Contact{Name: "Ana Lima", Email: "ana@example.com", Title: "CISO", Phone: "+1 555 0100"}
	for _, tc := range []struct {
		name string
		row  Row
		tag  string
		want Owner
	}{
		{"the owner tag names the owner", Row{Tags: map[string]string{"owner": "payments", "team": "x"}, SecurityContact: contact},
			"owner", Owner{"payments", OwnerFromTag}},
		{"the tag value is trimmed", Row{Tags: map[string]string{"owner": "  payments \t"}}, "owner", Owner{"payments", OwnerFromTag}},
		{"without the tag, the security contact's e-mail", Row{Tags: map[string]string{"team": "x"}, SecurityContact: contact},
			"owner", Owner{"ana@example.com", OwnerFromContact}},
		{"a blank tag counts as absent", Row{Tags: map[string]string{"owner": " "}, SecurityContact: contact},
			"owner", Owner{"ana@example.com", OwnerFromContact}},
		{"tag keys are case-sensitive, as in AWS", Row{Tags: map[string]string{"Owner": "payments"}, SecurityContact: contact},
			"owner", Owner{"ana@example.com", OwnerFromContact}},
		{"without a tag key asked for, the contact", Row{Tags: map[string]string{"owner": "payments"}, SecurityContact: contact},
			"", Owner{"ana@example.com", OwnerFromContact}},
		{"a contact without an e-mail is named", Row{SecurityContact: &Contact{Name: "Ana Lima"}}, "owner", Owner{"Ana Lima", OwnerFromContact}},
		{"neither tag nor contact is unowned", Row{}, "owner", Owner{Unowned, OwnerNone}},
		{"an empty contact is no contact", Row{SecurityContact: &Contact{Phone: "+1"}}, "owner", Owner{Unowned, OwnerNone}},
		{"tags that could not be read leave the owner unknown, whatever the contact says",
			Row{TagsError: denied, SecurityContact: contact}, "owner", Owner{"unknown (tags not read: AccessDenied)", OwnerUnknown}},
		{"a tags error does not matter when no tag is asked for",
			Row{TagsError: denied, SecurityContact: contact}, "", Owner{"ana@example.com", OwnerFromContact}},
		{"a contact that could not be read leaves the owner unknown",
			Row{Tags: map[string]string{"team": "x"}, ContactError: denied}, "owner", Owner{"unknown (security contact not read: AccessDenied)", OwnerUnknown}},
		{"an error without a code still says what was not read",
			Row{ContactError: &LookupError{Message: "boom"}}, "", Owner{"unknown (security contact not read)", OwnerUnknown}},
		{"the tag wins over a contact error", Row{Tags: map[string]string{"owner": "payments"}, ContactError: denied},
			"owner", Owner{"payments", OwnerFromTag}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.row.Owner(tc.tag); got != tc.want {
				t.Errorf("Owner(%q) = %+v, want %+v", tc.tag, got, tc.want)
			}
		})
	}
}

func TestCheckTagKey(t *testing.T) {
	for _, tc := range []struct {
		key, wantErr string
	}{
		{"owner", ""},
		{"cost-center", ""},
		{"team:name/sub_unit=+@.", ""},
		{"Propriétaire 所有者 1", ""},
		{strings.Repeat("k", 128), ""},
		{"", "empty"},
		{strings.Repeat("k", 129), "at most 128"},
		{"owner*", "characters AWS does not allow"},
		{"own\ner", "characters AWS does not allow"},
		{"own\x1b[31mer", "characters AWS does not allow"},
		{"\xff", "characters AWS does not allow"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			err := CheckTagKey(tc.key)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("CheckTagKey(%q) = %v, want nil", tc.key, err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("CheckTagKey(%q) = %v, want an error containing %q", tc.key, err, tc.wantErr)
			}
		})
	}
}
