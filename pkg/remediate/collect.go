package remediate

import (
	"slices"
	"strings"
	"sync"
)

// collector gathers the accounts that concurrent workers finish, tallies
// them, hands each to OnAccount, and keeps them unless every output has
// had them already (DiscardAccounts, and OnAccount took it).
type collector struct {
	mode    string
	on      func(*Account) error
	discard bool

	mu         sync.Mutex
	accounts   []Account
	counts     Counts
	seen       map[string]bool
	notStarted bool  // an account or an action was left not_started
	err        error // OnAccount's, which stops the run
}

func newCollector(mode string, on func(*Account) error, discard bool) *collector {
	return &collector{
		mode: mode, on: on, discard: discard,
		accounts: []Account{},
		counts:   Counts{ByStatus: map[string]int{}, ByOutcome: map[string]int{}, ByKind: map[string]int{}},
		seen:     map[string]bool{},
	}
}

func (c *collector) add(a Account) {
	if a.Actions == nil {
		a.Actions = []Action{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts.add(&a, c.mode)
	c.seen[a.AccountID] = true
	if a.Status == StatusNotStarted || slices.ContainsFunc(a.Actions, func(x Action) bool { return x.Outcome == OutcomeNotStarted }) {
		c.notStarted = true
	}
	if c.discard && c.on != nil && c.err == nil {
		if c.err = c.on(&a); c.err == nil {
			return // every output has it
		}
	}
	// Kept: for the outputs that render the report whole, or because
	// OnAccount refused it or stopped before it, so that the report's
	// Close still hands it to the outputs that stream.
	c.accounts = append(c.accounts, a)
	if !c.discard && c.on != nil && c.err == nil {
		c.err = c.on(&c.accounts[len(c.accounts)-1])
	}
}

// stopped tells whether OnAccount failed: the run begins no more accounts.
func (c *collector) stopped() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil
}

func (c *collector) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

// sorted returns the accounts kept, by account id.
func (c *collector) sorted() []Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	slices.SortFunc(c.accounts, func(a, b Account) int { return strings.Compare(a.AccountID, b.AccountID) })
	return c.accounts
}

// add tallies an account: its status, its actions' outcomes, and the
// deletions planned (a plan) or done (an apply) by kind.
func (n *Counts) add(a *Account, mode string) {
	n.Accounts++
	n.ByStatus[a.Status]++
	counted := OutcomePlanned
	if mode == ModeApply {
		counted = OutcomeDeleted
	}
	for _, x := range a.Actions {
		n.ByOutcome[x.Outcome]++
		if x.Outcome == counted {
			n.ByKind[x.Kind]++
		}
	}
}
