package iam

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/wire"
)

// rootUsers are the root users' credentials as IAM's operations have changed
// them. The world stays the description of the start: an account's entry
// is made from the fixture on its first change, and every read of a root
// user goes through current, so GetAccountSummary, the credential report
// and later sessions see a deletion.
type rootUsers struct {
	mu      sync.Mutex
	changed map[string]fixture.RootUser // by account id
}

// current is the account's root user now. Its slices and Password are
// never changed in place (change replaces them), so the copy handed out
// may be read without the lock.
func (r *rootUsers) current(a *fixture.Account) fixture.RootUser {
	r.mu.Lock()
	defer r.mu.Unlock()
	if root, ok := r.changed[a.ID]; ok {
		return root
	}
	return a.Root
}

// change applies fn to a copy of the account's root user and keeps the
// result when fn succeeds; fn must replace, not edit, the slices and the
// Password it changes.
func (r *rootUsers) change(a *fixture.Account, fn func(root *fixture.RootUser) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	root, ok := r.changed[a.ID]
	if !ok {
		root = a.Root
	}
	if err := fn(&root); err != nil {
		return err
	}
	if r.changed == nil {
		r.changed = map[string]fixture.RootUser{}
	}
	r.changed[a.ID] = root
	return nil
}

// RootUser is the account's root user as IAM's operations have left it, so
// that a test can compare what a client says it deleted with what was.
func (s *Service) RootUser(accountID string) fixture.RootUser {
	return s.roots.current(s.world.Account(accountID))
}

// ChangeRootUser applies fn to the account's root user as it stands, for a
// change made outside the simulated APIs (a test creating a root key
// between two runs). fn may edit the slices and the Password it is given:
// they are copies.
func (s *Service) ChangeRootUser(accountID string, fn func(root *fixture.RootUser)) {
	_ = s.roots.change(s.world.Account(accountID), func(root *fixture.RootUser) error {
		root.AccessKeys = slices.Clone(root.AccessKeys)
		root.SigningCertificates = slices.Clone(root.SigningCertificates)
		if root.Password != nil {
			p := *root.Password
			root.Password = &p
		}
		fn(root)
		return nil
	})
}

// Mutating tells whether an IAM action changes state: every action of the
// API model except those that only read (Get*, List*, Generate* reports and
// the Simulate* policy evaluations).
func Mutating(action string) bool {
	if !slices.Contains(iamActionNames, action) {
		return false
	}
	for _, read := range []string{"Get", "List", "Generate", "Simulate"} {
		if strings.HasPrefix(action, read) {
			return false
		}
	}
	return true
}

// The four deletions IAMDeleteRootUserCredentials opens. Each answers, in
// a root session, for the root user only (the task policy has already
// denied any other resource); other callers get what they got before the
// simulator modelled these actions, so IAM users' keys, which sign
// requests, never change. Inputs, the empty outputs and the error codes
// (NoSuchEntity, 404) are those of botocore's iam 2010-05-08
// service-2.json; the wording of the NoSuchEntity messages is the
// simulator's guess.

func (s *Service) deleteAccessKey(c *op.Call) (any, error) {
	if c.Caller.Kind != auth.RootSession {
		return notSimulatedIAM(c)
	}
	id, err := required(c, "AccessKeyId", "accessKeyId")
	if err != nil {
		return nil, err
	}
	return nil, s.roots.change(s.world.Account(c.Caller.AccountID), func(root *fixture.RootUser) error {
		i := slices.IndexFunc(root.AccessKeys, func(k fixture.AccessKey) bool { return k.ID == id })
		if i < 0 {
			return wire.Errorf(http.StatusNotFound, "NoSuchEntity", "The Access Key with id %s cannot be found.", id)
		}
		root.AccessKeys = slices.Delete(slices.Clone(root.AccessKeys), i, i+1)
		return nil
	})
}

func (s *Service) deleteSigningCertificate(c *op.Call) (any, error) {
	if c.Caller.Kind != auth.RootSession {
		return notSimulatedIAM(c)
	}
	id, err := required(c, "CertificateId", "certificateId")
	if err != nil {
		return nil, err
	}
	return nil, s.roots.change(s.world.Account(c.Caller.AccountID), func(root *fixture.RootUser) error {
		i := slices.IndexFunc(root.SigningCertificates, func(sc fixture.SigningCertificate) bool { return sc.ID == id })
		if i < 0 {
			return wire.Errorf(http.StatusNotFound, "NoSuchEntity", "The Certificate with id %s cannot be found.", id)
		}
		root.SigningCertificates = slices.Delete(slices.Clone(root.SigningCertificates), i, i+1)
		return nil
	})
}

func (s *Service) deleteLoginProfile(c *op.Call) (any, error) {
	if c.Caller.Kind != auth.RootSession {
		return notSimulatedIAM(c)
	}
	return nil, s.roots.change(s.world.Account(c.Caller.AccountID), func(root *fixture.RootUser) error {
		if root.Password == nil {
			return wire.Errorf(http.StatusNotFound, "NoSuchEntity", "Login Profile for User %s cannot be found.", c.Caller.AccountID)
		}
		root.Password, root.PasswordReset = nil, false
		return nil
	})
}

// deactivateMFADevice removes the root user's MFA. AWS leaves a deactivated
// virtual device behind, unassigned, until DeleteVirtualMFADevice; the
// simulator models only assigned root devices, so the device is gone.
func (s *Service) deactivateMFADevice(c *op.Call) (any, error) {
	if c.Caller.Kind != auth.RootSession {
		return notSimulatedIAM(c)
	}
	serial, err := required(c, "SerialNumber", "serialNumber")
	if err != nil {
		return nil, err
	}
	acct := c.Caller.AccountID
	return nil, s.roots.change(s.world.Account(acct), func(root *fixture.RootUser) error {
		if root.MFA == "" || RootMFASerial(acct, root.MFA) != serial {
			return wire.Errorf(http.StatusNotFound, "NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
		}
		root.MFA, root.MFAEnabledAt = "", nil
		return nil
	})
}

// required reads a required request parameter, answering its absence as
// IAM's validation does.
func required(c *op.Call, param, member string) (string, error) {
	v := c.Form.Get(param)
	if v == "" {
		return "", wire.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
	}
	return v, nil
}
