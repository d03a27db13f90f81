package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"golang.org/x/sync/errgroup"
)

// OrganizationsAPI is what discovery needs from AWS Organizations.
type OrganizationsAPI interface {
	ListRoots(ctx context.Context, in *organizations.ListRootsInput, optFns ...func(*organizations.Options)) (*organizations.ListRootsOutput, error)
	ListOrganizationalUnitsForParent(ctx context.Context, in *organizations.ListOrganizationalUnitsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListOrganizationalUnitsForParentOutput, error)
	ListAccountsForParent(ctx context.Context, in *organizations.ListAccountsForParentInput, optFns ...func(*organizations.Options)) (*organizations.ListAccountsForParentOutput, error)
}

// Account is a member account as the organization lists it.
type Account struct {
	ID           string
	Name         string
	Email        string
	State        string
	JoinedMethod string
	JoinedAt     *time.Time
	OUPath       string
}

// Filter selects accounts. Empty lists select everything.
type Filter struct {
	OUs             []string // whole subtrees; the root id selects all
	ExcludeOUs      []string // whole subtrees
	Accounts        []string
	ExcludeAccounts []string
}

// ouNode is one parent in the organization tree: the root or an OU.
type ouNode struct {
	id, path string
	parent   *ouNode
}

// tree is the organization's OU hierarchy.
type tree struct {
	root  *ouNode
	nodes map[string]*ouNode
}

// discoveryParallelism bounds concurrent Organizations calls. Organizations
// throttles early (a few requests per second per account in practice); a
// handful of calls in flight hides latency without provoking it.
const discoveryParallelism = 4

// UnknownOUError reports an OU of the Filter that the organization does
// not have: a usage error, detected before any account is scanned. When
// some OUs could not be listed (Unlisted), the OU may exist below one of
// them, and the error is not the user's.
type UnknownOUError struct {
	IDs      []string
	Unlisted []string
}

func (e *UnknownOUError) Error() string {
	if len(e.Unlisted) > 0 {
		return fmt.Sprintf("OU %v not found in the organization; it may lie below %v, whose child OUs could not be listed", e.IDs, e.Unlisted)
	}
	return fmt.Sprintf("OU %v not found in the organization: check the id with `aws organizations list-organizational-units-for-parent`", e.IDs)
}

// What a failed listing could not list under an OU or the root.
const (
	ListingAccounts = "accounts"
	ListingChildOUs = "child_ous"
)

// OUFailure is an OU (or the root) whose listing failed after retries: the
// accounts or child OUs below it are missing from the report, which is
// therefore incomplete.
type OUFailure struct {
	ID string `json:"id"`
	// Path is the OU's path as far as it is known.
	Path      string `json:"path"`
	Listing   string `json:"listing"`
	ErrorCode string `json:"error_code"`
	Error     string `json:"error"`
}

// Patterns of the identifiers Organizations hands out (botocore
// organizations/2016-11-28/service-2.json, shapes AccountId, RootId,
// OrganizationalUnitId, OrganizationId). An answer that breaks them is not
// used: ids go into ARNs, S3 keys and file names.
var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	rootIDPattern    = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern      = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	orgIDPattern     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// ValidAccountID tells whether id is a 12-digit AWS account id.
func ValidAccountID(id string) bool { return accountIDPattern.MatchString(id) }

// ValidOrganizationID tells whether id has the form of an organization id.
func ValidOrganizationID(id string) bool { return orgIDPattern.MatchString(id) }

// malformedIDError is an identifier from AWS that breaks its documented
// pattern; it classifies as a malformed answer.
type malformedIDError struct {
	kind, value string
}

func (e *malformedIDError) Error() string {
	return fmt.Sprintf("the answer holds %s %s, which is not a valid %s", article(e.kind), quoteID(e.value), e.kind)
}

func article(kind string) string {
	if strings.ContainsRune("aeiouAEIOU", rune(kind[0])) {
		return "an"
	}
	return "a"
}

// quoteID shows a rejected identifier safely: quoted, escaped and short.
func quoteID(v string) string {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return strconv.QuoteToASCII(v)
}

// failures gathers the listings that failed; discovery goes on without them.
type failures struct {
	mu   sync.Mutex
	list []OUFailure
}

func (f *failures) add(ctx context.Context, n *ouNode, listing string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list = append(f.list, OUFailure{ID: n.id, Path: n.path, Listing: listing, ErrorCode: classify(err, ctx), Error: describe(err)})
}

// sorted returns the failures in a stable order.
func (f *failures) sorted() []OUFailure {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := slices.Clone(f.list)
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Path < out[j].Path || out[i].Path == out[j].Path && out[i].Listing < out[j].Listing
	})
	return out
}

// childOUsUnlisted returns the OUs whose child OUs could not be listed.
func (f *failures) childOUsUnlisted() []string {
	var ids []string
	for _, x := range f.sorted() {
		if x.Listing == ListingChildOUs {
			ids = append(ids, x.ID)
		}
	}
	return ids
}

// walkTree lists every OU from the root down, in O(number of OUs) calls:
// one ListOrganizationalUnitsForParent (per page) for each parent. An OU
// whose children cannot be listed is recorded in fails and its subtree
// left out; only the root's own listing failing ends the walk.
func walkTree(ctx context.Context, api OrganizationsAPI, fails *failures) (*tree, error) {
	roots, err := api.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, fmt.Errorf("list the organization's root: %w", err)
	}
	if len(roots.Roots) == 0 {
		return nil, fmt.Errorf("list the organization's root: the organization has no root")
	}
	r := roots.Roots[0]
	if id := aws.ToString(r.Id); !rootIDPattern.MatchString(id) {
		return nil, fmt.Errorf("list the organization's root: %w", &malformedIDError{kind: "root id", value: id})
	}
	name := aws.ToString(r.Name)
	if name == "" {
		name = "Root"
	}
	t := &tree{root: &ouNode{id: aws.ToString(r.Id), path: name}, nodes: map[string]*ouNode{}}
	t.nodes[t.root.id] = t.root

	var mu sync.Mutex
	level := []*ouNode{t.root}
	for len(level) > 0 {
		var next []*ouNode
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(discoveryParallelism)
		for _, parent := range level {
			g.Go(func() error {
				children, err := listChildOUs(gctx, api, parent)
				if err != nil {
					if gctx.Err() != nil {
						return err
					}
					fails.add(gctx, parent, ListingChildOUs, err)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, c := range children {
					t.nodes[c.id] = c
				}
				next = append(next, children...)
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		// Sorted so that the order of later calls does not depend on
		// goroutine scheduling.
		sort.Slice(next, func(i, j int) bool { return next[i].id < next[j].id })
		level = next
	}
	return t, nil
}

// listChildOUs returns the child OUs listed before any error: those are
// real, and walking them keeps their accounts in the report.
func listChildOUs(ctx context.Context, api OrganizationsAPI, parent *ouNode) ([]*ouNode, error) {
	var out []*ouNode
	var malformed error
	p := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent.id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("list OUs under %s (%s): %w", parent.id, parent.path, err)
		}
		for _, ou := range page.OrganizationalUnits {
			id := aws.ToString(ou.Id)
			if !ouIDPattern.MatchString(id) {
				malformed = cmp.Or(malformed, fmt.Errorf("list OUs under %s (%s): %w", parent.id, parent.path, &malformedIDError{kind: "OU id", value: id}))
				continue
			}
			out = append(out, &ouNode{id: id, path: parent.path + "/" + aws.ToString(ou.Name), parent: parent})
		}
	}
	return out, malformed
}

// selectParents returns the parents whose accounts the filter selects.
func (t *tree) selectParents(f Filter, unlisted []string) ([]*ouNode, error) {
	var unknown []string
	for _, id := range slices.Concat(f.OUs, f.ExcludeOUs) {
		if _, ok := t.nodes[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownOUError{IDs: unknown, Unlisted: unlisted}
	}
	under := func(n *ouNode, ids []string) bool {
		for ; n != nil; n = n.parent {
			if slices.Contains(ids, n.id) {
				return true
			}
		}
		return false
	}
	var out []*ouNode
	for _, n := range t.nodes {
		if len(f.OUs) > 0 && !under(n, f.OUs) {
			continue
		}
		if under(n, f.ExcludeOUs) {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// discovery is the organization's tree, walked, and the parents a filter
// selects in it; list then streams their accounts.
type discovery struct {
	api     OrganizationsAPI
	parents []*ouNode
	fails   *failures
}

// newDiscovery walks the tree and selects the parents of f's accounts.
func newDiscovery(ctx context.Context, api OrganizationsAPI, f Filter) (*discovery, error) {
	fails := &failures{}
	t, err := walkTree(ctx, api, fails)
	if err != nil {
		return nil, discoverError(err)
	}
	parents, err := t.selectParents(f, fails.childOUsUnlisted())
	if err != nil {
		return nil, discoverError(err)
	}
	return &discovery{api: api, parents: parents, fails: fails}, nil
}

func (d *discovery) list(ctx context.Context, emit func(Account) error) error {
	return listAccounts(ctx, d.api, d.parents, d.fails, emit)
}

// discoverError classifies a failure that leaves nothing to scan.
func discoverError(err error) error {
	var unknown *UnknownOUError
	if errors.As(err, &unknown) {
		code := ErrorCodeInvalidInput
		if len(unknown.Unlisted) > 0 {
			// It may exist below an OU that could not be listed.
			code = CodeNotListed
		}
		return &Error{Stage: StageDiscover, Code: code, Hint: HintSelection, Err: err}
	}
	var hint Hint
	switch code := errorCode(err); {
	case accessCodes[code]:
		hint = HintOrganizationsAccess
	case isThrottleCode(code):
		hint = HintRetryLater
	}
	return StageError(StageDiscover, err, hint)
}

// Discover lists the accounts of the organization that f selects and hands
// each to emit as its page arrives, once, in no particular order. It is
// the discovery of Run, for a caller that acts on accounts otherwise than
// by scanning them. An OU whose listing fails does not stop it: it is
// returned among the failures, and the accounts below it are missing. It
// fails (an *Error at StageDiscover) only when the root cannot be listed,
// f names an OU the organization does not have, or emit fails.
func Discover(ctx context.Context, api OrganizationsAPI, f Filter, emit func(Account) error) ([]OUFailure, error) {
	d, err := newDiscovery(ctx, api, f)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var stop error
	filter := newAccountFilter(f)
	err = d.list(ctx, func(a Account) error {
		if !filter(a) {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if stop == nil {
			stop = emit(a)
		}
		return stop
	})
	if err != nil {
		return d.fails.sorted(), StageError(StageDiscover, err, "")
	}
	return d.fails.sorted(), nil
}

// listAccounts streams the accounts of the selected parents to emit as each
// page arrives, so that scanning starts long before discovery ends. A
// parent whose accounts cannot be listed is recorded in fails and the
// others are listed all the same; only emit's error (the scan stopping)
// ends the listing.
func listAccounts(ctx context.Context, api OrganizationsAPI, parents []*ouNode, fails *failures, emit func(Account) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(discoveryParallelism)
	for _, parent := range parents {
		g.Go(func() error {
			p := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent.id)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					if gctx.Err() != nil {
						return err
					}
					fails.add(gctx, parent, ListingAccounts, fmt.Errorf("list accounts under %s (%s): %w", parent.id, parent.path, err))
					return nil
				}
				for i := range page.Accounts {
					if id := aws.ToString(page.Accounts[i].Id); !accountIDPattern.MatchString(id) {
						// Not an account id: it cannot be entered nor key a
						// row, so the listing of this parent is incomplete.
						fails.add(gctx, parent, ListingAccounts, fmt.Errorf("list accounts under %s (%s): %w", parent.id, parent.path, &malformedIDError{kind: "account id", value: id}))
						continue
					}
					if err := emit(toAccount(&page.Accounts[i], parent.path)); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func toAccount(a *orgtypes.Account, path string) Account {
	// AWS retired Status in September 2026; State is the truth, Status
	// only a fallback for answers that predate it.
	state := string(a.State)
	if state == "" {
		state = string(a.Status)
	}
	return Account{
		ID:           aws.ToString(a.Id),
		Name:         aws.ToString(a.Name),
		Email:        aws.ToString(a.Email),
		State:        state,
		JoinedMethod: string(a.JoinedMethod),
		JoinedAt:     a.JoinedTimestamp,
		OUPath:       path,
	}
}
