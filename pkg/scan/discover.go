package scan

import (
	"context"
	"fmt"
	"slices"
	"sort"
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

// UnknownOUError reports an --ou or --exclude-ou that the organization does
// not have: a usage error, detected before any account is scanned.
type UnknownOUError struct{ IDs []string }

func (e *UnknownOUError) Error() string {
	return fmt.Sprintf("OU %v not found in the organization: check the id with `aws organizations list-organizational-units-for-parent`", e.IDs)
}

// walkTree lists every OU from the root down, in O(number of OUs) calls:
// one ListOrganizationalUnitsForParent (per page) for each parent.
func walkTree(ctx context.Context, api OrganizationsAPI) (*tree, error) {
	roots, err := api.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil {
		return nil, fmt.Errorf("list the organization's root: %w", err)
	}
	if len(roots.Roots) == 0 {
		return nil, fmt.Errorf("list the organization's root: the organization has no root")
	}
	r := roots.Roots[0]
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
					return err
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

func listChildOUs(ctx context.Context, api OrganizationsAPI, parent *ouNode) ([]*ouNode, error) {
	var out []*ouNode
	p := organizations.NewListOrganizationalUnitsForParentPaginator(api, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(parent.id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list OUs under %s (%s): %w", parent.id, parent.path, err)
		}
		for _, ou := range page.OrganizationalUnits {
			out = append(out, &ouNode{id: aws.ToString(ou.Id), path: parent.path + "/" + aws.ToString(ou.Name), parent: parent})
		}
	}
	return out, nil
}

// selectParents returns the parents whose accounts the filter selects.
func (t *tree) selectParents(f Filter) ([]*ouNode, error) {
	var unknown []string
	for _, id := range slices.Concat(f.OUs, f.ExcludeOUs) {
		if _, ok := t.nodes[id]; !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, &UnknownOUError{IDs: unknown}
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

// listAccounts streams the accounts of the selected parents to emit as each
// page arrives, so that scanning starts long before discovery ends.
func listAccounts(ctx context.Context, api OrganizationsAPI, parents []*ouNode, emit func(Account) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(discoveryParallelism)
	for _, parent := range parents {
		g.Go(func() error {
			p := organizations.NewListAccountsForParentPaginator(api, &organizations.ListAccountsForParentInput{ParentId: aws.String(parent.id)})
			for p.HasMorePages() {
				page, err := p.NextPage(gctx)
				if err != nil {
					return fmt.Errorf("list accounts under %s (%s): %w", parent.id, parent.path, err)
				}
				for i := range page.Accounts {
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
