package remediate

// Totals is what a person confirms before an apply: how many credentials
// of which kind will be deleted, in how many accounts, of which
// organization.
type Totals struct {
	OrganizationID string
	// Accounts is the number of accounts with at least one deletion.
	Accounts int
	// Deletions is the number of credentials to delete; ByKind splits it
	// by credential kind (KindAccessKey ...).
	Deletions int
	ByKind    map[string]int
	// Held is the number of credentials of a selected kind kept for a hold
	// reason.
	Held int
}

// Totals counts the deletions the report names (Decision delete: planned
// in a plan, attempted in an apply) and the credentials held.
func (r *Report) Totals() Totals {
	t := Totals{OrganizationID: r.Remediation.OrganizationID, ByKind: map[string]int{}}
	for i := range r.Accounts {
		n := 0
		for _, x := range r.Accounts[i].Actions {
			switch {
			case x.Decision == DecisionDelete:
				n++
				t.ByKind[x.Kind]++
			case x.Outcome == OutcomeHeld:
				t.Held++
			}
		}
		if n > 0 {
			t.Accounts++
			t.Deletions += n
		}
	}
	return t
}
