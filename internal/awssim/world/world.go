// Package world is the organization a fixture describes, as the services
// read it: accounts, OUs and the tree they form, the delegated
// administrators and the fixture's long-lived credentials. It is built once
// and never changes, so services read it without a lock; what requests
// change (issued sessions, buckets, credential reports) belongs to the
// package that changes it.
package world

import (
	"slices"

	"github.com/orgscan/orgscan/internal/awssim/fixture"
)

// World is the organization, read-only after New.
type World struct {
	Org        fixture.Organization
	Accounts   map[string]*fixture.Account
	Order      []string               // account ids in fixture order
	OUs        map[string]*fixture.OU // by id
	ChildOUs   map[string][]string    // parent id -> OU ids, fixture order
	ChildAccts map[string][]string    // parent id -> account ids, fixture order
	// Credentials are the fixture's long-lived keys, in fixture order: the
	// account's IAM users.
	Credentials []fixture.StaticCredential
	// orgReaders are the delegated administrators of any service, who may
	// read Organizations; iamAdmins those of IAM, who may also use
	// centralized root access. Neither holds the management account.
	orgReaders map[string]bool
	iamAdmins  map[string]bool
}

// New reads the organization of a validated fixture.
func New(fx *fixture.Fixture) *World {
	w := &World{
		Org:         fx.Organization,
		Accounts:    make(map[string]*fixture.Account, len(fx.Accounts)),
		OUs:         make(map[string]*fixture.OU, len(fx.Organization.OUs)),
		ChildOUs:    map[string][]string{},
		ChildAccts:  map[string][]string{},
		Credentials: fx.Credentials,
		orgReaders:  map[string]bool{},
		iamAdmins:   map[string]bool{},
	}
	for _, id := range fx.Organization.AllDelegatedAdministrators() {
		w.orgReaders[id] = true
	}
	for _, id := range fx.Organization.IAMDelegatedAdministrators() {
		w.iamAdmins[id] = true
	}
	for i := range fx.Organization.OUs {
		ou := fx.Organization.OUs[i]
		w.OUs[ou.ID] = &ou
		w.ChildOUs[ou.Parent] = append(w.ChildOUs[ou.Parent], ou.ID)
	}
	for i := range fx.Accounts {
		a := fx.Accounts[i]
		w.Accounts[a.ID] = &a
		w.Order = append(w.Order, a.ID)
		w.ChildAccts[a.Parent] = append(w.ChildAccts[a.Parent], a.ID)
	}
	return w
}

// InOrganization tells whether an account belongs to the organization.
func (w *World) InOrganization(accountID string) bool {
	_, ok := w.Accounts[accountID]
	return ok
}

// Account returns the account's modelled state; an account outside the
// fixture (a caller from outside the organization) is an empty account.
func (w *World) Account(id string) *fixture.Account {
	if a, ok := w.Accounts[id]; ok {
		return a
	}
	return &fixture.Account{ID: id}
}

// IsOrgAdministrator tells whether an account is the management account or
// a delegated administrator of any service: registering a delegated
// administrator for a service also grants it Organizations' read-only
// actions (Organizations User Guide, "Delegated administrator for AWS
// services that work with Organizations"; RegisterDelegatedAdministrator:
// "It grants read-only access to Organizations service data").
func (w *World) IsOrgAdministrator(accountID string) bool {
	return accountID == w.Org.ManagementAccountID || w.orgReaders[accountID]
}

// IsIAMAdministrator tells whether an account may use centralized root
// access: only the management account and IAM's delegated administrator
// (AssumeRoot and ListOrganizationsFeatures in the STS and IAM API
// references: "a delegated administrator account for IAM").
func (w *World) IsIAMAdministrator(accountID string) bool {
	return accountID == w.Org.ManagementAccountID || w.iamAdmins[accountID]
}

// IsDelegatedAdministrator tells whether an account is registered as
// delegated administrator for a service principal.
func (w *World) IsDelegatedAdministrator(principal, accountID string) bool {
	if principal == fixture.IAMServicePrincipal {
		return w.iamAdmins[accountID]
	}
	return slices.Contains(w.Org.DelegatedAdministratorsByService[principal], accountID)
}

// HasParent tells whether id names the root or an OU of the organization.
func (w *World) HasParent(id string) bool {
	if id == w.Org.RootID {
		return true
	}
	_, ok := w.OUs[id]
	return ok
}
