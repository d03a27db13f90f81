package world

import (
	"testing"

	"github.com/orgscan/orgscan/internal/awssim/fixture"
)

func TestDelegatedAdministratorsPerService(t *testing.T) {
	fx := fixture.Generate(fixture.GenerateOptions{Seed: 7, Accounts: 5})
	ids := make([]string, 0, len(fx.Accounts))
	for _, a := range fx.Accounts {
		ids = append(ids, a.ID)
	}
	mgmt := fx.Organization.ManagementAccountID
	var members []string
	for _, id := range ids {
		if id != mgmt {
			members = append(members, id)
		}
	}
	if len(members) < 3 {
		t.Fatalf("the small fixture needs three members, has %v", members)
	}
	tests := []struct {
		name               string
		legacy             []string
		byService          map[string][]string
		account            string
		wantOrgs, wantRoot bool
	}{
		{"the management account has both", nil, nil, mgmt, true, true},
		{"the old list means IAM's delegated administrator", []string{members[0]}, nil, members[0], true, true},
		{"IAM's delegated administrator by service principal", nil, map[string][]string{fixture.IAMServicePrincipal: {members[0]}}, members[0], true, true},
		{"another service's delegated administrator reads Organizations only", nil, map[string][]string{"securityhub.amazonaws.com": {members[1]}}, members[1], true, false},
		{"a member registered for nothing has neither", nil, map[string][]string{"securityhub.amazonaws.com": {members[1]}}, members[2], false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := *fx
			f.Organization.DelegatedAdministrators = tc.legacy
			f.Organization.DelegatedAdministratorsByService = tc.byService
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			w := New(&f)
			if got := w.IsOrgAdministrator(tc.account); got != tc.wantOrgs {
				t.Errorf("Organizations reader: %v, want %v", got, tc.wantOrgs)
			}
			if got := w.IsIAMAdministrator(tc.account); got != tc.wantRoot {
				t.Errorf("centralized root access: %v, want %v", got, tc.wantRoot)
			}
		})
	}
}
