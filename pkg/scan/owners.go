package scan

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accounttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
)

// TagsLister lists a resource's tags in AWS Organizations; the scan pages
// through each account's tags with it (Config.Tags).
type TagsLister interface {
	ListTagsForResource(ctx context.Context, in *organizations.ListTagsForResourceInput, optFns ...func(*organizations.Options)) (*organizations.ListTagsForResourceOutput, error)
}

// ContactGetter reads an alternate contact of an account in AWS Account
// Management (Config.Contacts).
type ContactGetter interface {
	GetAlternateContact(ctx context.Context, in *account.GetAlternateContactInput, optFns ...func(*account.Options)) (*account.GetAlternateContactOutput, error)
}

// What would let a refused lookup through, in AWS's terms. AWS answers
// AccessDenied alike for each cause, so each names them all.
const (
	// The Service Authorization Reference lists account (the ARN of an
	// account in an organization) among the resource types of
	// organizations:ListTagsForResource: a Deny can hide one account's tags.
	fixTagsAccess = "allow organizations:ListTagsForResource on the account: a Deny in an IAM policy or a service control policy can hide one account's tags"
	// GetAlternateContact with AccountId: "the caller must be an identity in
	// the organization's management account or a delegated administrator
	// account ... and the organization must have trusted access enabled for
	// the Account Management service" (AWS Account Management API
	// Reference, GetAlternateContact).
	fixContactAccess = "enable trusted access for AWS Account Management (account.amazonaws.com) in AWS Organizations, " +
		"run from the management account or Account Management's delegated administrator, " +
		"and allow account:GetAlternateContact"
	// Only the management account reads its own contacts, without
	// AccountId: "the specified account ID must be a member account" of
	// the caller's organization, for a delegated administrator too.
	fixManagementContact = "only the management account can read its own alternate contacts: run from the management account"
	// Without AccountId no organization setting is involved.
	fixOwnContact = "allow account:GetAlternateContact on the caller's own account"
)

// owners are an account's lookups beside its scan: its tags and its
// security contact, read concurrently with the account itself.
type owners struct {
	wg sync.WaitGroup

	tags    map[string]string
	tagsErr *LookupError

	contactAsked bool
	contact      *Contact
	contactErr   *LookupError
}

// lookupParallelism bounds the lookups of each kind in flight: they are
// calls to a service that throttles per calling account, as discovery's
// are (discoveryParallelism), and every scan worker waiting its turn in
// the client's paced schedule would wait longer than the account's time
// limit allows once the organization is large and the quota small.
const lookupParallelism = discoveryParallelism

// lookupSlots are the turns of the lookups of one kind.
type lookupSlots chan struct{}

func newLookupSlots() lookupSlots { return make(lookupSlots, lookupParallelism) }

// lookUpOwners starts the lookups the scan asks for; fill waits for them.
// A lookup waits for its turn (see lookupParallelism) with the scan's
// context, then has the account's time limit: time spent waiting for the
// caller's quota is not the account's.
func (s *scanner) lookUpOwners(ctx context.Context, accountID string) *owners {
	o := &owners{}
	if s.cfg.Tags != nil {
		o.wg.Go(func() {
			if err := s.inTurn(ctx, s.tagSlots, func(ctx context.Context) { o.tags, o.tagsErr = s.readTags(ctx, accountID) }); err != nil {
				o.tagsErr = err
			}
		})
	}
	if s.cfg.Contacts != nil {
		o.contactAsked = true
		o.wg.Go(func() {
			if err := s.inTurn(ctx, s.contactSlots, func(ctx context.Context) { o.contact, o.contactErr = s.readContact(ctx, accountID) }); err != nil {
				o.contactErr = err
			}
		})
	}
	return o
}

// inTurn runs lookup once a slot is free, within the account's time limit
// from then on; the error says why it never ran (the scan ended), and is
// nil when it ran, whatever it found.
func (s *scanner) inTurn(ctx context.Context, slots lookupSlots, lookup func(context.Context)) *LookupError {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return &LookupError{Code: classify(ctx.Err(), ctx), Message: "not read: the scan ended first"}
	}
	defer func() { <-slots }()
	if s.cfg.AccountTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.AccountTimeout)
		defer cancel()
	}
	lookup(ctx)
	return nil
}

// fill waits for the lookups and adds what they found to the row. A row
// that was not scanned (interrupted) keeps nothing: it carries nothing
// read. A failed lookup is said in its own field and leaves the row's
// status and findings alone; an account that has no security contact gets
// the finding, which also marks the contact as read.
func (o *owners) fill(r *Row) {
	o.wg.Wait()
	if r.Status != StatusOK && r.Status != StatusError {
		return
	}
	r.Tags, r.TagsError = o.tags, o.tagsErr
	if !o.contactAsked {
		return
	}
	r.SecurityContact, r.ContactError = o.contact, o.contactErr
	if o.contact == nil && o.contactErr == nil {
		r.Findings = append(r.Findings, FindingNoSecurityContact)
	}
}

// readTags lists every tag of the account, following NextToken: AWS
// documents no page size for ListTagsForResource. An account with no tags
// has an empty map, never nil.
func (s *scanner) readTags(ctx context.Context, accountID string) (map[string]string, *LookupError) {
	tags := map[string]string{}
	p := organizations.NewListTagsForResourcePaginator(s.cfg.Tags, &organizations.ListTagsForResourceInput{ResourceId: aws.String(accountID)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			fix := ""
			if accessCodes[errorCode(err)] {
				fix = fixTagsAccess
			}
			return nil, lookupError(ctx, "list the account's tags", err, fix)
		}
		for _, t := range page.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

// readContact reads the account's SECURITY alternate contact; nil, nil when
// the account has none (ResourceNotFoundException, in the Account
// Management service model's errors of GetAlternateContact).
func (s *scanner) readContact(ctx context.Context, accountID string) (*Contact, *LookupError) {
	in := &account.GetAlternateContactInput{AlternateContactType: accounttypes.AlternateContactTypeSecurity}
	// The caller's own account is read without AccountId: "The management
	// account can't specify its own AccountId; it must call the operation
	// in standalone context by not including the AccountId parameter"
	// (API Reference, GetAlternateContact), and without it any caller reads
	// its own account.
	if accountID != s.cfg.CallerAccountID {
		in.AccountId = aws.String(accountID)
	}
	out, err := s.cfg.Contacts.GetAlternateContact(ctx, in)
	switch {
	case errorCode(err) == "ResourceNotFoundException":
		return nil, nil
	case err != nil:
		fix := ""
		switch {
		case !accessCodes[errorCode(err)]:
		case accountID == s.cfg.CallerAccountID:
			fix = fixOwnContact
		case accountID == s.cfg.ManagementAccountID:
			fix = fixManagementContact
		default:
			fix = fixContactAccess
		}
		return nil, lookupError(ctx, "read the security contact", err, fix)
	case out.AlternateContact == nil:
		return nil, &LookupError{Code: CodeMalformed, Message: "read the security contact: the answer holds no contact"}
	}
	c := out.AlternateContact
	return &Contact{
		Name:  aws.ToString(c.Name),
		Email: aws.ToString(c.EmailAddress),
		Title: aws.ToString(c.Title),
		Phone: aws.ToString(c.PhoneNumber),
	}, nil
}

// lookupError classifies a failed lookup as a row's failures are, and says
// what failed, AWS's code and message, and what would fix it.
func lookupError(ctx context.Context, what string, err error, fix string) *LookupError {
	msg := what + ": " + describe(err)
	if fix != "" {
		msg += " (" + fix + ")"
	}
	return &LookupError{Code: classify(err, ctx), Message: msg}
}
