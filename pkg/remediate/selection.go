package remediate

import (
	"fmt"
	"strings"

	"github.com/orgscan/orgscan/pkg/scan"
)

// Names of the kinds of root credential a Selection holds, as a list of
// them is written (ParseSelection reads it; Names writes it). SelectAll
// stands for every kind.
const (
	SelectAccessKeys          = "access-keys"
	SelectSigningCertificates = "signing-certificates"
	SelectPassword            = "password"
	SelectMFA                 = "mfa"
	SelectAll                 = "all"
)

// Selection is which kinds of root credential to delete.
type Selection struct{ AccessKeys, SigningCertificates, Password, MFA bool }

// DefaultSelection is the two credentials a root user should never have:
// access keys and signing certificates. Deleting them locks nobody out of
// the account.
func DefaultSelection() Selection {
	return Selection{AccessKeys: true, SigningCertificates: true}
}

// ParseSelection reads a list of names (SelectAccessKeys ... SelectAll).
// An unknown or missing name is invalid input (scan.ErrorCodeInvalidInput,
// HintDelete); a list that would delete MFA devices while the password or
// access keys they protect may remain is refused (ErrorCodeUnsafeSelection,
// HintDeleteAll).
func ParseSelection(names []string) (Selection, error) {
	var s Selection
	for _, raw := range names {
		name := strings.ToLower(strings.TrimSpace(raw))
		switch name {
		case SelectAccessKeys:
			s.AccessKeys = true
		case SelectSigningCertificates:
			s.SigningCertificates = true
		case SelectPassword:
			s.Password = true
		case SelectMFA:
			s.MFA = true
		case SelectAll:
			s = Selection{AccessKeys: true, SigningCertificates: true, Password: true, MFA: true}
		default:
			return Selection{}, &scan.Error{Stage: scan.StageConfig, Code: scan.ErrorCodeInvalidInput, Hint: HintDelete,
				Err: fmt.Errorf("root credential kind %q is not known: use %s", truncate(raw, 40), strings.Join(allNames, ", "))}
		}
	}
	if s.Empty() {
		return Selection{}, &scan.Error{Stage: scan.StageConfig, Code: scan.ErrorCodeInvalidInput, Hint: HintDelete,
			Err: fmt.Errorf("no root credential kind to delete was named: use %s", strings.Join(allNames, ", "))}
	}
	if err := s.check(); err != nil {
		return Selection{}, err
	}
	return s, nil
}

var allNames = []string{SelectAccessKeys, SelectSigningCertificates, SelectPassword, SelectMFA, SelectAll}

// Empty tells whether the selection names no kind at all.
func (s Selection) Empty() bool { return s == Selection{} }

// Names lists the selected kinds in canonical order; SelectAll is never
// among them.
func (s Selection) Names() []string {
	names := []string{}
	for _, k := range []struct {
		on   bool
		name string
	}{{s.AccessKeys, SelectAccessKeys}, {s.SigningCertificates, SelectSigningCertificates}, {s.Password, SelectPassword}, {s.MFA, SelectMFA}} {
		if k.on {
			names = append(names, k.name)
		}
	}
	return names
}

// check refuses to delete MFA devices unless the password and the access
// keys go too: a root user left with a password (or a key) and no MFA is
// worse off than before.
func (s Selection) check() error {
	if s.MFA && (!s.Password || !s.AccessKeys) {
		return &scan.Error{Stage: scan.StageConfig, Code: ErrorCodeUnsafeSelection, Hint: HintDeleteAll, Err: fmt.Errorf(
			"deleting MFA devices without also deleting the password and the access keys is refused: it may leave a root user with a password and no MFA; select %s and %s with %s, or %s",
			SelectPassword, SelectAccessKeys, SelectMFA, SelectAll)}
	}
	return nil
}

// selects tells whether the selection holds a kind of credential.
func (s Selection) selects(kind string) bool {
	switch kind {
	case KindAccessKey:
		return s.AccessKeys
	case KindSigningCertificate:
		return s.SigningCertificates
	case KindPassword:
		return s.Password
	case KindMFADevice:
		return s.MFA
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
