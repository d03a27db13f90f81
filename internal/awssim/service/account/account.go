// Package account simulates AWS Account Management's GetAlternateContact
// over REST-JSON: who may read whose alternate contacts, and the answers
// and errors of its service model (botocore's
// account/2021-02-01/service-2.json: POST /getAlternateContact, signing
// name account).
package account

import (
	"net/http"
	"regexp"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"github.com/orgscan/orgscan/internal/awssim/world"
)

// Service answers Account Management for one organization, which never
// changes, so its operation takes no lock.
type Service struct {
	world *world.World
}

// New serves the organization w.
func New(w *world.World) *Service { return &Service{world: w} }

// Ops are the simulated operations by name.
func (s *Service) Ops() map[string]op.Func {
	return map[string]op.Func{"GetAlternateContact": s.getAlternateContact}
}

// routes are the operations by request path; every one is a POST.
var routes = map[string]string{"/getAlternateContact": "GetAlternateContact"}

// OperationName reads the operation from a request's method and path, as
// REST protocols route; it is empty for a request no operation has.
func OperationName(r *http.Request) string {
	if r.Method != http.MethodPost {
		return ""
	}
	return routes[r.URL.Path]
}

// UnknownOperation is the answer to a path no operation serves. The model
// documents none; a REST front end's not-found is a guess.
func UnknownOperation(name string) *wire.APIError {
	return wire.Errorf(http.StatusNotFound, "UnknownOperationException", "operation %q is not simulated", name)
}

// ServerError is InternalServerException, the model's server fault (500).
func ServerError() *wire.APIError {
	return &wire.APIError{Status: http.StatusInternalServerError, Code: "InternalServerException",
		Message: "The operation failed because of an error internal to AWS. Try your operation again later.", Receiver: true}
}

// contactTypes is the AlternateContactType enum of the model.
var contactTypes = map[string]bool{"SECURITY": true, "BILLING": true, "OPERATIONS": true}

// accountIDPattern is the model's AccountId pattern (\d{12}), anchored.
var accountIDPattern = regexp.MustCompile(`^\d{12}$`)

type alternateContact struct {
	AlternateContactType string `json:"AlternateContactType"`
	EmailAddress         string `json:"EmailAddress"`
	Name                 string `json:"Name"`
	PhoneNumber          string `json:"PhoneNumber"`
	Title                string `json:"Title"`
}

// validation is ValidationException (400) with the model's reason.
func validation(format string, args ...any) *wire.APIError {
	e := wire.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
	e.Extra = map[string]string{"reason": "fieldValidationFailed"}
	return e
}

// accessDenied is AccessDeniedException, 403 in the model. Without an
// explicit deny AWS names only the caller and the action, as a call with
// AccountId was seen to answer without trusted access
// (turbot/steampipe-plugin-aws#1309).
func accessDenied(caller *auth.Principal, explicitOn string) *wire.APIError {
	if explicitOn != "" {
		return wire.Errorf(http.StatusForbidden, "AccessDeniedException",
			"User: %s is not authorized to perform: account:GetAlternateContact on resource: %s with an explicit deny in an identity-based policy",
			caller.ARN, explicitOn)
	}
	return wire.Errorf(http.StatusForbidden, "AccessDeniedException",
		"User: %s is not authorized to perform: account:GetAlternateContact", caller.ARN)
}

// getAlternateContact returns one alternate contact of an account.
//
// Without AccountId it reads the caller's own account, in any account and
// whatever the organization allows. With AccountId the rules are those of
// the API reference (GetAlternateContact, AccountId) and the Account
// Management Reference Guide ("Enable trusted access for AWS Account
// Management", "Enable a delegated admin account for AWS Account
// Management"): the caller is the management account or Account
// Management's delegated administrator, the organization has all features
// and trusted access for account.amazonaws.com, and the account named is a
// member account of the organization; the management account cannot name
// itself. AWS documents the rules but not the code of each refusal; the
// simulator answers AccessDeniedException to all of them, as AWS was seen
// to answer the missing trusted access. A suspended account's contacts can
// still be read (turbot/steampipe-plugin-aws#1309).
func (s *Service) getAlternateContact(c *op.Call) (any, error) {
	var req struct {
		AlternateContactType *string `json:"AlternateContactType"`
		AccountID            *string `json:"AccountId"`
	}
	if err := c.DecodeJSON(&req); err != nil {
		return nil, err
	}
	if req.AlternateContactType == nil {
		return nil, validation("1 validation error detected: Value null at 'alternateContactType' failed to satisfy constraint: Member must not be null")
	}
	if !contactTypes[*req.AlternateContactType] {
		return nil, validation("1 validation error detected: Value '%s' at 'alternateContactType' failed to satisfy constraint: Member must satisfy enum value set: [SECURITY, BILLING, OPERATIONS]", *req.AlternateContactType)
	}
	if req.AccountID != nil && !accountIDPattern.MatchString(*req.AccountID) {
		return nil, validation("1 validation error detected: Value '%s' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: \\d{12}", *req.AccountID)
	}
	// Task policies of sts:AssumeRoot grant no Account Management action.
	if c.Caller.Kind == auth.RootSession {
		return nil, accessDenied(c.Caller, "")
	}
	target, resource := c.Caller.AccountID, "arn:aws:account::"+c.Caller.AccountID+":account"
	if req.AccountID != nil {
		target = *req.AccountID
		if err := s.authorizeForMember(c.Caller, target); err != nil {
			return nil, err
		}
		// The Service Authorization Reference's accountInOrganization
		// resource type, named by the management account and organization.
		resource = "arn:aws:account::" + s.world.Org.ManagementAccountID + ":account/" + s.world.Org.ID + "/" + target
	}
	if auth.Denied(c.Caller, "account:GetAlternateContact", resource) {
		return nil, accessDenied(c.Caller, resource)
	}
	contact := s.world.Account(target).AlternateContacts.ByType(*req.AlternateContactType)
	if contact == nil {
		return nil, wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", "No contact of the inputted alternate contact type found.")
	}
	return struct {
		AlternateContact alternateContact `json:"AlternateContact"`
	}{alternateContact{
		AlternateContactType: *req.AlternateContactType,
		EmailAddress:         contact.Email,
		Name:                 contact.Name,
		PhoneNumber:          contact.Phone,
		Title:                contact.Title,
	}}, nil
}

// authorizeForMember applies who may name another account in AccountId.
func (s *Service) authorizeForMember(caller *auth.Principal, target string) error {
	w := s.world
	org := &w.Org
	mayAdminister := caller.AccountID == org.ManagementAccountID ||
		w.IsDelegatedAdministrator(fixture.AccountServicePrincipal, caller.AccountID)
	switch {
	case !w.InOrganization(caller.AccountID), !mayAdminister:
		return accessDenied(caller, "")
	case !org.TrustedAccessEnabled(fixture.AccountServicePrincipal):
		return accessDenied(caller, "")
	case target == org.ManagementAccountID, !w.InOrganization(target):
		return accessDenied(caller, "")
	}
	return nil
}
