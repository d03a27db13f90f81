// Package organizations simulates AWS Organizations' read operations over
// JSON 1.1: who may call them, their paging, and the shapes of their answers
// and errors.
package organizations

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"github.com/orgscan/orgscan/internal/awssim/world"
)

// Organizations speaks JSON 1.1 with the target prefix
// AWSOrganizationsV20161128. Field names below are those of the service
// model (botocore's organizations/2016-11-28/service-2.json).

// Service answers Organizations for one organization, which never changes,
// so its operations take no lock.
type Service struct {
	world org
}

// org is the organization with the views Organizations answers with.
type org struct{ *world.World }

// New serves the organization w.
func New(w *world.World) *Service { return &Service{world: org{w}} }

// Ops are the simulated operations by name.
func (s *Service) Ops() map[string]op.Func {
	return map[string]op.Func{
		"DescribeOrganization":             s.describeOrganization,
		"ListRoots":                        s.listRoots,
		"ListOrganizationalUnitsForParent": s.listOrganizationalUnitsForParent,
		"ListAccountsForParent":            s.listAccountsForParent,
		"ListAccounts":                     s.listAccounts,
		"DescribeAccount":                  s.describeAccount,
		"ListParents":                      s.listParents,
		"ListTagsForResource":              s.listTagsForResource,
	}
}

// Page sizes. The service model bounds MaxResults to 1..20; a value outside
// is refused, not clamped, with the InvalidInputException reasons that
// Organizations documents for it (MAX_VALUE_EXCEEDED, MIN_VALUE_EXCEEDED).
const (
	orgsMaxResults     = 20
	orgsDefaultResults = 20
)

// epochSeconds renders a timestamp as JSON 1.1 does: seconds since the epoch
// as a plain number (never in exponent notation, which some parsers reject).
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.Nanosecond() == 0 {
		return strconv.AppendInt(nil, tt.Unix(), 10), nil
	}
	return strconv.AppendFloat(nil, float64(tt.UnixMilli())/1e3, 'f', 3, 64), nil
}

type orgPolicyTypeSummary struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

// Only service control policies are modelled; AWS documents
// AvailablePolicyTypes as listing SCPs only.
var enabledPolicyTypes = []orgPolicyTypeSummary{{Type: "SERVICE_CONTROL_POLICY", Status: "ENABLED"}}

type orgOrganization struct {
	ID                   string                 `json:"Id"`
	Arn                  string                 `json:"Arn"`
	FeatureSet           string                 `json:"FeatureSet"`
	MasterAccountArn     string                 `json:"MasterAccountArn"`
	MasterAccountID      string                 `json:"MasterAccountId"`
	MasterAccountEmail   string                 `json:"MasterAccountEmail"`
	AvailablePolicyTypes []orgPolicyTypeSummary `json:"AvailablePolicyTypes"`
}

type orgRoot struct {
	ID          string                 `json:"Id"`
	Arn         string                 `json:"Arn"`
	Name        string                 `json:"Name"`
	PolicyTypes []orgPolicyTypeSummary `json:"PolicyTypes"`
}

type orgOU struct {
	ID   string `json:"Id"`
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
	Path string `json:"Path"`
}

type orgAccount struct {
	ID              string       `json:"Id"`
	Arn             string       `json:"Arn"`
	Email           string       `json:"Email"`
	Name            string       `json:"Name"`
	Status          string       `json:"Status"`
	State           string       `json:"State,omitempty"`
	JoinedMethod    string       `json:"JoinedMethod"`
	JoinedTimestamp epochSeconds `json:"JoinedTimestamp"`
}

type orgParent struct {
	ID   string `json:"Id"`
	Type string `json:"Type"`
}

type orgTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// legacyStatus maps the account State to the older Status field. AWS
// introduced State because Status could not tell an account that is not yet
// activated from an ACTIVE one, nor a closed account from a suspended one,
// so PENDING_ACTIVATION reports ACTIVE and CLOSED reports SUSPENDED.
func legacyStatus(state string) string {
	switch state {
	case "PENDING_ACTIVATION":
		return "ACTIVE"
	case "CLOSED":
		return "SUSPENDED"
	}
	return state
}

func (w org) orgARN(kind, id string) string {
	if kind == "organization" {
		return fmt.Sprintf("arn:aws:organizations::%s:organization/%s", w.Org.ManagementAccountID, w.Org.ID)
	}
	return fmt.Sprintf("arn:aws:organizations::%s:%s/%s/%s", w.Org.ManagementAccountID, kind, w.Org.ID, id)
}

// parentARN is the ARN of the root or of an OU.
func (w org) parentARN(id string) string {
	if id == w.Org.RootID {
		return w.orgARN("root", id)
	}
	return w.orgARN("ou", id)
}

func (w org) accountView(a *fixture.Account) orgAccount {
	v := orgAccount{
		ID:              a.ID,
		Arn:             w.orgARN("account", a.ID),
		Email:           a.Email,
		Name:            a.Name,
		Status:          legacyStatus(a.State),
		State:           a.State,
		JoinedMethod:    a.JoinedMethod,
		JoinedTimestamp: epochSeconds(a.JoinedTimestamp),
	}
	if a.OmitState {
		v.State = ""
	}
	return v
}

// ouPath is the OU's path in the organization, o-id/r-id/ou-a/ou-b/, as
// the OrganizationalUnit.Path field has it.
func (w org) ouPath(id string) string {
	var chain []string
	for cur := id; cur != w.Org.RootID; {
		ou, ok := w.OUs[cur]
		if !ok || len(chain) > len(w.OUs) {
			break
		}
		chain = append(chain, cur)
		cur = ou.Parent
	}
	slices.Reverse(chain)
	return w.Org.ID + "/" + w.Org.RootID + "/" + strings.Join(chain, "/") + "/"
}

func (w org) ouView(ou *fixture.OU) orgOU {
	return orgOU{ID: ou.ID, Arn: w.orgARN("ou", ou.ID), Name: ou.Name, Path: w.ouPath(ou.ID)}
}

// invalidInput is Organizations' InvalidInputException, which carries a
// Reason beside the message.
func invalidInput(reason, format string, args ...any) *wire.APIError {
	e := wire.Errorf(http.StatusBadRequest, "InvalidInputException", format, args...)
	e.Extra = map[string]string{"Reason": reason}
	return e
}

// authorizeOrganizations applies who may call Organizations: only accounts
// in the organization, and among them only the management account and the
// delegated administrators, except for DescribeOrganization, which AWS
// allows from any member account. Root sessions from sts:AssumeRoot are
// scoped by their task policy, which grants no Organizations action.
func (s *Service) authorizeOrganizations(c *op.Call, anyMember bool) error {
	w := s.world
	if !w.InOrganization(c.Caller.AccountID) {
		return wire.Errorf(http.StatusBadRequest, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
	}
	if c.Caller.Kind == auth.RootSession {
		return wire.Errorf(http.StatusBadRequest, "AccessDeniedException",
			"User: %s is not authorized to perform: organizations:%s because no session policy allows the organizations:%s action",
			c.Caller.ARN, c.Op, c.Op)
	}
	if !anyMember && !w.IsOrgAdministrator(c.Caller.AccountID) {
		return wire.Errorf(http.StatusBadRequest, "AccessDeniedException", "You don't have permissions to access this resource.")
	}
	return auth.ExplicitDeny(c.Caller, "organizations:"+c.Op, "*")
}

// pageRequest is the paging part of every List request.
type pageRequest struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

// paginate returns the [start, end) window of a list of n items and the
// token for the next page. The token is opaque to clients but binds the
// operation and the list it pages through, so that a token from another
// call is refused as AWS refuses it.
func paginate(p pageRequest, opName, listKey string, n int) (start, end int, next *string, err error) {
	return pageWindow(p, opName, listKey, n, orgsDefaultResults)
}

// pageWindow is paginate with the page size used when the request names
// none.
func pageWindow(p pageRequest, opName, listKey string, n, size int) (start, end int, next *string, err error) {
	if p.MaxResults != nil {
		switch {
		case *p.MaxResults > orgsMaxResults:
			return 0, 0, nil, invalidInput("MAX_VALUE_EXCEEDED", "You provided a numeric parameter that has a larger value than allowed: MaxResults must be at most %d.", orgsMaxResults)
		case *p.MaxResults < 1:
			return 0, 0, nil, invalidInput("MIN_VALUE_EXCEEDED", "You provided a numeric parameter that has a smaller value than allowed: MaxResults must be at least 1.")
		}
		size = *p.MaxResults
	}
	if p.NextToken != nil {
		off, ok := decodePageToken(*p.NextToken, opName, listKey)
		if !ok || off > n {
			return 0, 0, nil, invalidInput("INVALID_NEXT_TOKEN", "The NextToken value is not valid for this request.")
		}
		start = off
	}
	end = min(start+size, n)
	if end < n {
		t := encodePageToken(opName, listKey, end)
		next = &t
	}
	return start, end, next, nil
}

const pageTokenVersion = "awssim1"

func pageTokenSum(payload string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(payload))
	return h.Sum32()
}

func encodePageToken(opName, listKey string, offset int) string {
	payload := strings.Join([]string{pageTokenVersion, opName, listKey, strconv.Itoa(offset)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload + "|" + strconv.FormatUint(uint64(pageTokenSum(payload)), 36)))
}

func decodePageToken(token, opName, listKey string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, false
	}
	s := string(raw)
	i := strings.LastIndexByte(s, '|')
	if i < 0 {
		return 0, false
	}
	payload, sum := s[:i], s[i+1:]
	if strconv.FormatUint(uint64(pageTokenSum(payload)), 36) != sum {
		return 0, false
	}
	parts := strings.Split(payload, "|")
	if len(parts) != 4 || parts[0] != pageTokenVersion || parts[1] != opName || parts[2] != listKey {
		return 0, false
	}
	off, err := strconv.Atoi(parts[3])
	if err != nil || off < 0 {
		return 0, false
	}
	return off, true
}

// requireID checks a required identifier parameter against its pattern.
func requireID(name, value string, ok func(string) bool) error {
	if value == "" {
		return invalidInput("INPUT_REQUIRED", "You must include a value for all required parameters: %s is missing.", name)
	}
	if !ok(value) {
		return invalidInput("INVALID_PATTERN", "You provided a value that doesn't match the required pattern: %s %q.", name, value)
	}
	return nil
}

func isParentID(id string) bool { return fixture.IsRootID(id) || fixture.IsOUID(id) }
func isChildID(id string) bool {
	return fixture.IsAccountID(id) || fixture.IsOUID(id)
}

// featureSet is the organization's FeatureSet as DescribeOrganization
// reports it.
func (w org) featureSet() string {
	if w.Org.FeatureSet == "" {
		return fixture.FeatureSetAll
	}
	return w.Org.FeatureSet
}

func (s *Service) describeOrganization(c *op.Call) (any, error) {
	if err := s.authorizeOrganizations(c, true); err != nil {
		return nil, err
	}
	w := s.world
	mgmt := w.Accounts[w.Org.ManagementAccountID]
	return struct {
		Organization orgOrganization `json:"Organization"`
	}{orgOrganization{
		ID:                   w.Org.ID,
		Arn:                  w.orgARN("organization", ""),
		FeatureSet:           w.featureSet(),
		MasterAccountArn:     w.orgARN("account", mgmt.ID),
		MasterAccountID:      mgmt.ID,
		MasterAccountEmail:   mgmt.Email,
		AvailablePolicyTypes: enabledPolicyTypes,
	}}, nil
}

func (s *Service) listRoots(c *op.Call) (any, error) {
	var req pageRequest
	if err := s.readRequest(c, &req); err != nil {
		return nil, err
	}
	w := s.world
	roots := []orgRoot{{ID: w.Org.RootID, Arn: w.orgARN("root", w.Org.RootID), Name: "Root", PolicyTypes: enabledPolicyTypes}}
	start, end, next, err := paginate(req, c.Op, "", len(roots))
	if err != nil {
		return nil, err
	}
	return struct {
		Roots     []orgRoot `json:"Roots"`
		NextToken *string   `json:"NextToken,omitempty"`
	}{roots[start:end], next}, nil
}

type parentPageRequest struct {
	ParentID string `json:"ParentId"`
	pageRequest
}

// readRequest decodes a read operation's request and checks that the
// caller may read the organization.
func (s *Service) readRequest(c *op.Call, req any) error {
	if err := c.DecodeJSON(req); err != nil {
		return err
	}
	return s.authorizeOrganizations(c, false)
}

// childPage answers the common part of the ...ForParent operations: it
// decodes and authorizes the request and cuts one page of the parent's
// children.
func (s *Service) childPage(c *op.Call, children map[string][]string) ([]string, *string, error) {
	var req parentPageRequest
	if err := s.readRequest(c, &req); err != nil {
		return nil, nil, err
	}
	if err := requireID("ParentId", req.ParentID, isParentID); err != nil {
		return nil, nil, err
	}
	if !s.world.HasParent(req.ParentID) {
		return nil, nil, wire.Errorf(http.StatusBadRequest, "ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
	}
	// The ...ForParent operations authorize on the parent's ARN, so a policy
	// can allow some OUs and not others (Service Authorization Reference,
	// AWS Organizations: resource types root and organizationalunit).
	if err := auth.ExplicitDeny(c.Caller, "organizations:"+c.Op, s.world.parentARN(req.ParentID)); err != nil {
		return nil, nil, err
	}
	ids := children[req.ParentID]
	start, end, next, err := paginate(req.pageRequest, c.Op, req.ParentID, len(ids))
	if err != nil {
		return nil, nil, err
	}
	return ids[start:end], next, nil
}

func (s *Service) listOrganizationalUnitsForParent(c *op.Call) (any, error) {
	ids, next, err := s.childPage(c, s.world.ChildOUs)
	if err != nil {
		return nil, err
	}
	ous := make([]orgOU, 0, len(ids))
	for _, id := range ids {
		ous = append(ous, s.world.ouView(s.world.OUs[id]))
	}
	return struct {
		OrganizationalUnits []orgOU `json:"OrganizationalUnits"`
		NextToken           *string `json:"NextToken,omitempty"`
	}{ous, next}, nil
}

type accountsPage struct {
	Accounts  []orgAccount `json:"Accounts"`
	NextToken *string      `json:"NextToken,omitempty"`
}

func (w org) accountsPage(ids []string, start, end int, next *string) accountsPage {
	out := accountsPage{Accounts: make([]orgAccount, 0, end-start), NextToken: next}
	for _, id := range ids[start:end] {
		out.Accounts = append(out.Accounts, w.accountView(w.Accounts[id]))
	}
	return out
}

func (s *Service) listAccountsForParent(c *op.Call) (any, error) {
	ids, next, err := s.childPage(c, s.world.ChildAccts)
	if err != nil {
		return nil, err
	}
	return s.world.accountsPage(ids, 0, len(ids), next), nil
}

func (s *Service) listAccounts(c *op.Call) (any, error) {
	var req pageRequest
	if err := s.readRequest(c, &req); err != nil {
		return nil, err
	}
	w := s.world
	start, end, next, err := paginate(req, c.Op, "", len(w.Order))
	if err != nil {
		return nil, err
	}
	return w.accountsPage(w.Order, start, end, next), nil
}

func (s *Service) describeAccount(c *op.Call) (any, error) {
	var req struct {
		AccountID string `json:"AccountId"`
	}
	if err := s.readRequest(c, &req); err != nil {
		return nil, err
	}
	if err := requireID("AccountId", req.AccountID, fixture.IsAccountID); err != nil {
		return nil, err
	}
	a, ok := s.world.Accounts[req.AccountID]
	if !ok {
		return nil, wire.Errorf(http.StatusBadRequest, "AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	return struct {
		Account orgAccount `json:"Account"`
	}{s.world.accountView(a)}, nil
}

func (s *Service) listParents(c *op.Call) (any, error) {
	var req struct {
		ChildID string `json:"ChildId"`
		pageRequest
	}
	if err := s.readRequest(c, &req); err != nil {
		return nil, err
	}
	if err := requireID("ChildId", req.ChildID, isChildID); err != nil {
		return nil, err
	}
	w := s.world
	var parent string
	if a, ok := w.Accounts[req.ChildID]; ok {
		parent = a.Parent
	} else if ou, ok := w.OUs[req.ChildID]; ok {
		parent = ou.Parent
	} else {
		return nil, wire.Errorf(http.StatusBadRequest, "ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	typ := "ORGANIZATIONAL_UNIT"
	if parent == w.Org.RootID {
		typ = "ROOT"
	}
	parents := []orgParent{{ID: parent, Type: typ}}
	start, end, next, err := paginate(req.pageRequest, c.Op, req.ChildID, len(parents))
	if err != nil {
		return nil, err
	}
	return struct {
		Parents   []orgParent `json:"Parents"`
		NextToken *string     `json:"NextToken,omitempty"`
	}{parents[start:end], next}, nil
}

// tagsPageSize is how many tags a ListTagsForResource page holds. The
// operation takes no MaxResults and AWS documents no page size (the API
// reference and botocore's model say only that NextToken may come back), so
// this is a guess, taken from the 20 that bounds the other list operations:
// a client must follow NextToken whatever the size, and a resource with more
// than 20 tags shows that it does.
const tagsPageSize = 20

// taggableIDPattern is TaggableResourceId in the service model: a root, an
// account, an OU, a policy (p-), a resource policy (rp-) or a
// responsibility transfer (rt-), with the model's maximum length of 130.
// The model anchors only some alternatives; the simulator anchors all.
var taggableIDPattern = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128}|rp-[0-9a-zA-Z_]{4,128}|rt-[0-9a-zA-Z_]{8,32})$`)

func isTaggableID(id string) bool { return len(id) <= 130 && taggableIDPattern.MatchString(id) }

// taggable returns the tags of a resource and the ARN that policies name
// it by. Policies, resource policies and transfers are not modelled, so
// their ids are never found.
func (w org) taggable(id string) (map[string]string, string, bool) {
	if a, ok := w.Accounts[id]; ok {
		return a.Tags, w.orgARN("account", id), true
	}
	if id == w.Org.RootID {
		return w.Org.RootTags, w.orgARN("root", id), true
	}
	if ou, ok := w.OUs[id]; ok {
		return ou.Tags, w.orgARN("ou", id), true
	}
	return nil, "", false
}

// listTagsForResource answers the management account and the delegated
// administrators, like every read. It costs a request of the caller's
// Organizations quota per page, as every Organizations call does.
func (s *Service) listTagsForResource(c *op.Call) (any, error) {
	var req struct {
		ResourceID string  `json:"ResourceId"`
		NextToken  *string `json:"NextToken"`
	}
	if err := s.readRequest(c, &req); err != nil {
		return nil, err
	}
	if err := requireID("ResourceId", req.ResourceID, isTaggableID); err != nil {
		return nil, err
	}
	tags, arn, ok := s.world.taggable(req.ResourceID)
	if !ok {
		return nil, wire.Errorf(http.StatusBadRequest, "TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	// The Service Authorization Reference lists account, organizationalunit,
	// policy, resourcepolicy, responsibilitytransfer and root as the
	// resource types of organizations:ListTagsForResource, so a Deny can
	// hide one account's tags and not another's.
	if err := auth.ExplicitDeny(c.Caller, "organizations:"+c.Op, arn); err != nil {
		return nil, err
	}
	keys := wire.SortedKeys(tags)
	start, end, next, err := pageWindow(pageRequest{NextToken: req.NextToken}, c.Op, req.ResourceID, len(keys), tagsPageSize)
	if err != nil {
		return nil, err
	}
	out := make([]orgTag, 0, end-start)
	for _, k := range keys[start:end] {
		out = append(out, orgTag{Key: k, Value: tags[k]})
	}
	return struct {
		Tags      []orgTag `json:"Tags"`
		NextToken *string  `json:"NextToken,omitempty"`
	}{out, next}, nil
}
