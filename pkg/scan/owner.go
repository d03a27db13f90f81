package scan

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Unowned is the owner of an account that has neither the owner tag nor a
// security contact.
const Unowned = "unowned"

// OwnerSource says where an account's owner came from.
type OwnerSource string

// Owner sources, in the order Row.Owner consults them.
const (
	OwnerFromTag     OwnerSource = "tag"
	OwnerFromContact OwnerSource = "security-contact"
	// OwnerNone: no owner tag and no security contact; the name is
	// Unowned.
	OwnerNone OwnerSource = "none"
	// OwnerUnknown: the tags or the contact could not be read, so the
	// account may well have an owner that the report does not know.
	OwnerUnknown OwnerSource = "unknown"
)

// Owner is who answers for an account, as far as its row tells.
type Owner struct {
	// Name is the tag's value, the contact's e-mail (or name), Unowned,
	// or for an unknown owner what could not be read, as
	// "unknown (tags not read: AccessDenied)". It is the report's text,
	// not sanitized: renderers treat it as they treat account names.
	Name   string
	Source OwnerSource
}

// Owner is the account's owner: the value of its tag tagKey when it has
// one that is not blank; else its security contact's e-mail, or name
// when the contact has no e-mail; else Unowned. An empty tagKey skips the
// tag.
//
// A source that could not be read ends the search with OwnerUnknown
// rather than falling through to the next: the tag, which takes
// precedence, might name someone other than the contact, and an auditor
// must be able to tell "nobody owns this" from "the owner could not be
// read".
func (r *Row) Owner(tagKey string) Owner {
	if tagKey != "" {
		if v := strings.TrimSpace(r.Tags[tagKey]); v != "" {
			return Owner{Name: v, Source: OwnerFromTag}
		}
		if r.TagsError != nil {
			return unknownOwner("tags", r.TagsError)
		}
	}
	if c := r.SecurityContact; c != nil {
		if v := strings.TrimSpace(c.Email); v != "" {
			return Owner{Name: v, Source: OwnerFromContact}
		}
		if v := strings.TrimSpace(c.Name); v != "" {
			return Owner{Name: v, Source: OwnerFromContact}
		}
	} else if r.ContactError != nil {
		return unknownOwner("security contact", r.ContactError)
	}
	return Owner{Name: Unowned, Source: OwnerNone}
}

func unknownOwner(what string, e *LookupError) Owner {
	name := "unknown (" + what + " not read)"
	if e.Code != "" {
		name = "unknown (" + what + " not read: " + e.Code + ")"
	}
	return Owner{Name: name, Source: OwnerUnknown}
}

// tagKeyPattern is the TagKey shape of the Organizations API model
// (botocore organizations/2016-11-28 service-2.json: 1 to 128 characters
// of letters, separators, digits and _.:/=+-@).
var tagKeyPattern = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$`)

const maxTagKeyRunes = 128

// CheckTagKey refuses a tag key no AWS account can have, so that a typo is
// reported rather than matching nothing.
func CheckTagKey(key string) error {
	switch n := utf8.RuneCountInString(key); {
	case n == 0:
		return fmt.Errorf("tag key is empty")
	case n > maxTagKeyRunes:
		return fmt.Errorf("tag key is %d characters long; AWS allows at most %d", n, maxTagKeyRunes)
	case !utf8.ValidString(key) || !tagKeyPattern.MatchString(key):
		return fmt.Errorf("tag key %q has characters AWS does not allow in one: use letters, digits, spaces and _.:/=+-@", key)
	}
	return nil
}
