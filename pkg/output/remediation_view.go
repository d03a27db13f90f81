package output

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// The orders in which a remediation report lists account statuses,
// outcomes and kinds: the order of the work, not of the alphabet. Values a
// newer orgscan writes come after these, sorted.
var (
	remediationStatuses = []string{
		remediate.StatusPlanned, remediate.StatusHeld, remediate.StatusNothingToDo, remediate.StatusRemediated,
		remediate.StatusFailed, remediate.StatusError, remediate.StatusSkipped, remediate.StatusNotStarted,
	}
	remediationOutcomes = []string{
		remediate.OutcomePlanned, remediate.OutcomeHeld, remediate.OutcomeDeleted, remediate.OutcomeAlreadyAbsent,
		remediate.OutcomeNewSincePlan, remediate.OutcomeFailed, remediate.OutcomeNotStarted,
	}
	remediationKinds = []string{
		remediate.KindAccessKey, remediate.KindSigningCertificate, remediate.KindPassword, remediate.KindMFADevice,
	}
)

// Tones of a status or an outcome: what the table colours and the page
// styles by, decided once so that the two cannot disagree.
const (
	toneGood = "good" // done, or nothing was needed
	toneTodo = "todo" // a plan's deletion, still to do
	toneWarn = "warn" // kept, or not reached: look at it
	toneBad  = "bad"  // failed
	toneDim  = "dim"  // out of scope
)

func remediationTone(v string) string {
	// Statuses and outcomes share some words (planned, held, failed,
	// not_started), which mean alike in both.
	switch v {
	case remediate.StatusRemediated, remediate.StatusNothingToDo, remediate.OutcomeDeleted, remediate.OutcomeAlreadyAbsent:
		return toneGood
	case remediate.StatusPlanned:
		return toneTodo
	case remediate.StatusHeld, remediate.OutcomeNewSincePlan, remediate.StatusNotStarted:
		return toneWarn
	case remediate.StatusFailed, remediate.StatusError:
		return toneBad
	case remediate.StatusSkipped:
		return toneDim
	}
	// A value this version does not know could be anything: make it seen.
	return toneWarn
}

// remediationView is what a remediation report shows, worked out once:
// the table and the HTML page render it, and neither words a value of the
// report on its own. The CSV, which carries values rather than text, reads
// the report itself.
type remediationView struct {
	Plan bool
	// Mode is the headline: "PLAN — nothing changed" or "APPLY — …".
	Mode string

	Organization, ManagementAccount, Caller, CallerAccount, Partition, Version string
	Started, Finished                                                          time.Time
	Digest, PlanCreatedBy                                                      string
	PlanCreated                                                                time.Time
	// Selection says what the plan deletes and what it holds, in words.
	Selection string
	Options   []htmlPair
	// RootAccess is the organization's centralized root access features.
	RootAccess []htmlPair

	Accounts []accountView

	// Totals, from the report's own counts, which add up even when the
	// accounts were streamed and not kept.
	AccountTotal int
	ByStatus     []countView
	ByOutcome    []countView
	ByKind       []countView
	// KindVerb says what ByKind counts: deletions planned or done.
	KindVerb string

	Complete bool
	// Gaps say, one line each, why the report is incomplete.
	Gaps []string
	// OUsNotListed name each OU listing that failed.
	OUsNotListed []string
	// Attention says what in a complete report still needs a person.
	Attention []string
	// Next says what to do next, in words: the command line words flags.
	Next []string
}

// countView is one total: a status, outcome or kind and its count.
type countView struct {
	Name  string
	Count int
	Tone  string
}

// accountView is one account, its cells sanitized.
type accountView struct {
	ID, Name, OU, Status, Tone string
	// Reason says why the account was skipped; Error why it could not be
	// entered or read.
	Reason  string
	Error   *remediationProblem
	Actions []actionView
	// Remaining are the credentials a verifying listing still found.
	Remaining []string
	// After is the root user's credentials after an apply, in a few
	// words; "" when there is no verifying listing to show.
	After string
}

// actionView is one action, its cells sanitized.
type actionView struct {
	Kind, ID, Decision, Hold, HoldDetail, Outcome, Tone, Note string
	At                                                        time.Time
	// RequestID is AWS's id of the deletion's request, for CloudTrail.
	RequestID string
	Error     *remediationProblem
}

// DecisionText is the decision with its hold reason: "delete", "hold:
// recently_used".
func (a *actionView) DecisionText() string {
	if a.Hold == "" {
		return orDash(a.Decision)
	}
	return orDash(a.Decision) + ": " + a.Hold
}

// Detail is what the table shows after the outcome: the hold detail, the
// deletion's request id, the error, the note.
func (a *actionView) Detail() string {
	var parts []string
	req := ""
	if a.RequestID != "" {
		req = "request id " + a.RequestID
	}
	for _, s := range []string{a.HoldDetail, req, a.Error.Text(), a.Note} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}

// remediationProblem is AWS's error as the evidence keeps it, sanitized.
type remediationProblem struct{ Code, Message, RequestID string }

func newRemediationProblem(e *remediate.Error) *remediationProblem {
	if e == nil {
		return nil
	}
	return &remediationProblem{Code: Sanitize(e.Code), Message: Sanitize(e.Message), RequestID: Sanitize(e.RequestID)}
}

// Text is the problem on one line: "code: message (request id …)".
func (p *remediationProblem) Text() string {
	if p == nil {
		return ""
	}
	s := strings.TrimPrefix(p.Code+": "+p.Message, ": ")
	s = strings.TrimSuffix(s, ": ")
	if p.RequestID != "" {
		s += " (request id " + p.RequestID + ")"
	}
	return s
}

func newRemediationView(rep *remediate.Report) *remediationView {
	m := &rep.Remediation
	v := &remediationView{
		Plan:              m.Mode == remediate.ModePlan,
		Organization:      orUnknown(m.OrganizationID),
		ManagementAccount: orUnknown(m.ManagementAccountID),
		Caller:            orUnknown(m.CallerARN),
		CallerAccount:     orUnknown(m.CallerAccountID),
		Partition:         orUnknown(m.Partition),
		Version:           orUnknown(m.Version),
		Started:           m.StartedAt,
		Digest:            orUnknown(m.Plan.Digest),
		PlanCreated:       m.Plan.CreatedAt,
		PlanCreatedBy:     orUnknown(m.Plan.CreatedBy),
		Selection:         selectionText(&m.Options),
		Options:           remediationOptions(&m.Options),
		RootAccess:        rootAccessPairs(&m.RootAccess),
		AccountTotal:      m.Counts.Accounts,
		Complete:          m.Complete,
	}
	if m.FinishedAt != nil {
		v.Finished = *m.FinishedAt
	}
	switch m.Mode {
	case remediate.ModePlan:
		v.Mode, v.KindVerb = "PLAN — nothing changed", "to delete"
	case remediate.ModeApply:
		v.Mode, v.KindVerb = "APPLY — evidence of what was deleted", "deleted"
	default:
		v.Mode, v.KindVerb = strings.ToUpper(orUnknown(m.Mode)), "counted"
	}
	v.ByStatus = countViews(m.Counts.ByStatus, remediationStatuses, true, true)
	v.ByOutcome = countViews(m.Counts.ByOutcome, remediationOutcomes, true, true)
	v.ByKind = countViews(m.Counts.ByKind, remediationKinds, false, false)

	accounts := sortedAccounts(rep)
	v.Accounts = make([]accountView, len(accounts))
	for i, a := range accounts {
		v.Accounts[i] = newAccountView(a, v.Plan)
	}

	if !m.Complete {
		v.Gaps = remediationGapLines(m)
		for _, f := range m.OUsNotListed {
			v.OUsNotListed = append(v.OUsNotListed, ouFailureLine(f))
		}
	}
	v.Attention, v.Next = remediationAdvice(rep, v.Plan)
	return v
}

func newAccountView(a *remediate.Account, plan bool) accountView {
	av := accountView{
		ID:     orDash(Sanitize(a.AccountID)),
		Name:   Sanitize(a.AccountName),
		OU:     orDash(Sanitize(a.OUPath)),
		Status: orDash(Sanitize(a.Status)),
		Tone:   remediationTone(a.Status),
		Reason: Sanitize(a.Reason),
		Error:  newRemediationProblem(a.Error),
	}
	for _, r := range a.Remaining {
		av.Remaining = append(av.Remaining, orDash(Sanitize(r)))
	}
	if !plan && a.After != nil {
		av.After = credentialsText(a.After)
	}
	av.Actions = make([]actionView, len(a.Actions))
	for i := range a.Actions {
		x := &a.Actions[i]
		id := Sanitize(x.ID)
		if id == "" {
			// The password is one per user and has no id.
			id = "-"
		}
		av.Actions[i] = actionView{
			Kind: orDash(Sanitize(x.Kind)), ID: id, Decision: Sanitize(x.Decision),
			Hold: Sanitize(x.Hold), HoldDetail: Sanitize(x.HoldDetail),
			Outcome: orDash(Sanitize(x.Outcome)), Tone: remediationTone(x.Outcome),
			Note: Sanitize(x.Note), RequestID: Sanitize(x.RequestID), Error: newRemediationProblem(x.Error),
		}
		if x.At != nil {
			av.Actions[i].At = *x.At
		}
	}
	return av
}

// Detail is what the table shows for the account itself: why it was
// skipped or could not be read, and what a verification still found.
func (a *accountView) Detail() string {
	var parts []string
	if a.Reason != "" {
		parts = append(parts, a.Reason)
	}
	if t := a.Error.Text(); t != "" {
		parts = append(parts, t)
	}
	if len(a.Remaining) > 0 {
		parts = append(parts, "still present after the apply: "+strings.Join(a.Remaining, ", "))
	}
	return strings.Join(parts, "; ")
}

// credentialsText says in a few words what root credentials a listing
// found; "" when there is no listing.
func credentialsText(rc *scan.RootCredentials) string {
	if rc == nil {
		return ""
	}
	pwd := "password unknown"
	if p := rc.Password.Present; p != nil {
		pwd = pick(*p, "password", "no password")
	}
	return fmt.Sprintf("%s, %s, %s, %s",
		countText(len(rc.AccessKeys), "access key", "access keys"),
		countText(len(rc.SigningCertificates), "signing certificate", "signing certificates"),
		pwd,
		countText(len(rc.MFA.Devices), "MFA device", "MFA devices"))
}

func countText(n int, one, many string) string {
	if n == 0 {
		return "no " + many
	}
	return pluralize(n, one, many)
}

// countViews lists counts in the given order, then any name this version
// does not know; zero counts are left out where they say nothing. Kinds
// are counted, not judged: they have no tone.
func countViews(counts map[string]int, order []string, skipZero, judged bool) []countView {
	tone := func(name string) string {
		if !judged {
			return ""
		}
		return remediationTone(name)
	}
	var out []countView
	for _, name := range order {
		if n := counts[name]; n > 0 || !skipZero {
			out = append(out, countView{Name: name, Count: n, Tone: tone(name)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		if !slices.Contains(order, name) && counts[name] > 0 {
			out = append(out, countView{Name: Sanitize(name), Count: counts[name], Tone: tone(name)})
		}
	}
	return out
}

// selectionText says what the plan deletes and what it holds.
func selectionText(o *remediate.Options) string {
	del := make([]string, len(o.Delete))
	for i, d := range o.Delete {
		del[i] = Sanitize(d)
	}
	s := "deletes " + orUnknown(strings.Join(del, ", "))
	if !slices.Contains(o.Delete, remediate.SelectAccessKeys) && !slices.Contains(o.Delete, remediate.SelectAll) {
		return s
	}
	if o.IncludeRecentlyUsed {
		return s + "; access keys used recently are deleted too"
	}
	return s + "; access keys used within " + pluralize(o.RecentDays, "day", "days") + " are held"
}

func remediationOptions(o *remediate.Options) []htmlPair {
	var p []htmlPair
	add := func(k, v string) { p = append(p, htmlPair{k, v}) }
	del := make([]string, len(o.Delete))
	for i, d := range o.Delete {
		del[i] = Sanitize(d)
	}
	add("delete", orUnknown(strings.Join(del, ", ")))
	add("recent use window", pluralize(o.RecentDays, "day", "days"))
	add("include recently used", yesNoText(o.IncludeRecentlyUsed))
	add("region", orUnknown(o.Region))
	add("concurrency", strconv.Itoa(o.Concurrency))
	for _, f := range []struct {
		name string
		list []string
	}{{"OUs", o.OUs}, {"excluded OUs", o.ExcludeOUs}, {"accounts", o.Accounts}, {"excluded accounts", o.ExcludeAccounts}} {
		if len(f.list) > 0 {
			add(f.name, Sanitize(strings.Join(f.list, ", ")))
		}
	}
	return p
}

func rootAccessPairs(ra *scan.RootAccessState) []htmlPair {
	p := []htmlPair{
		{"root credentials management", orUnknown(ra.RootCredentialsManagement)},
		{"root sessions", orUnknown(ra.RootSessions)},
	}
	if ra.Reason != "" {
		p = append(p, htmlPair{"why unknown", Sanitize(ra.Reason)})
	}
	return p
}

// remediationGapLines says, one line per reason the run recorded, why a
// remediation report is incomplete, in the words of coverage.go where
// they fit.
func remediationGapLines(m *remediate.Meta) []string {
	run := pick(m.Mode == remediate.ModeApply, "apply", "plan")
	c := m.Counts.ByStatus
	var out []string
	for _, reason := range m.IncompleteReasons {
		switch reason {
		case scan.ReasonInterrupted:
			if run == "apply" {
				out = append(out, "the apply was interrupted: accounts in flight finished their current deletion and were verified, and the rest were not started")
			} else {
				out = append(out, "the plan was interrupted")
			}
		case scan.ReasonScanFailed:
			out = append(out, "the "+run+" stopped part way; accounts not reached are not in this report")
		case scan.ReasonAccountsInError:
			out = append(out, fmt.Sprintf("%s could not be entered or read: their root credentials are unknown", plural(c[remediate.StatusError], "account")))
		case remediate.ReasonAccountsNotStarted:
			out = append(out, fmt.Sprintf("%s not started", plural(c[remediate.StatusNotStarted], "account")))
		case remediate.ReasonAccountsFailed:
			out = append(out, fmt.Sprintf("%s failed: a deletion failed or a credential remains after verification", plural(c[remediate.StatusFailed], "account")))
		case scan.ReasonOUsNotListed:
			n := len(distinctOUs(m.OUsNotListed))
			out = append(out, fmt.Sprintf("%s could not be listed: the accounts below %s are missing from this report",
				plural(n, "OU"), pick(n == 1, "it", "them")))
		default:
			out = append(out, Sanitize(reason))
		}
	}
	if len(out) == 0 {
		out = append(out, "the report does not say why")
	}
	return out
}

func distinctOUs(fs []scan.OUFailure) map[string]bool {
	ous := map[string]bool{}
	for _, f := range fs {
		ous[f.ID] = true
	}
	return ous
}

// remediationAdvice says what still needs a person, and what to do next,
// in words: pkg/ knows no flags, and the command line adds its own.
func remediationAdvice(rep *remediate.Report, plan bool) (attention, next []string) {
	m := &rep.Remediation
	deletions := 0
	for _, n := range m.Counts.ByKind {
		deletions += n
	}
	fresh := m.Counts.ByOutcome[remediate.OutcomeNewSincePlan]
	recent, protecting := 0, 0
	for i := range rep.Accounts {
		for _, a := range rep.Accounts[i].Actions {
			if a.Outcome != remediate.OutcomeHeld {
				continue
			}
			switch a.Hold {
			case remediate.HoldRecentlyUsed:
				recent++
			case remediate.HoldProtectsCredentials:
				protecting++
			}
		}
	}
	if plan {
		if deletions == 0 {
			next = append(next, "Nothing to delete: no apply is needed.")
		} else {
			next = append(next, fmt.Sprintf("Next: review this plan, then apply it. The apply deletes only the %s it names, in %s, "+
				"lists each account again first (a credential already gone is recorded as such, one that appeared since is never deleted), "+
				"and records the verified state after.",
				pluralize(deletions, "credential", "credentials"), pluralize(m.Counts.ByStatus[remediate.StatusPlanned], "account", "accounts")))
		}
		if recent > 0 {
			next = append(next, fmt.Sprintf("%s used recently %s held: make sure nothing uses %s, then plan again including recently used keys.",
				pluralize(recent, "access key", "access keys"), pick(recent == 1, "is", "are"), pick(recent == 1, "it", "them")))
		}
		if protecting > 0 {
			next = append(next, fmt.Sprintf("%s held: deleting %s while a password or an access key remains would leave a root user without MFA.",
				pluralize(protecting, "MFA device is", "MFA devices are"), pick(protecting == 1, "it", "them")))
		}
		if !m.Complete {
			next = append(next, "This plan is incomplete: the accounts it does not cover are left as they are.")
		}
		return nil, next
	}
	// Failed accounts make the report incomplete, and its gaps say so;
	// only a report that does not say it needs these words.
	if n := m.Counts.ByStatus[remediate.StatusFailed] + m.Counts.ByStatus[remediate.StatusError]; n > 0 && m.Complete {
		attention = append(attention, fmt.Sprintf("%s need%s attention: a deletion failed, a credential remains after verification, or the account could not be entered.",
			pluralize(n, "account", "accounts"), pick(n == 1, "s", "")))
	}
	if fresh > 0 {
		attention = append(attention, fmt.Sprintf("%s appeared after the plan was made and %s not deleted.",
			pluralize(fresh, "credential", "credentials"), pick(fresh == 1, "was", "were")))
	}
	if len(attention) > 0 || !m.Complete {
		next = append(next, "Next: plan again to see what remains, review that plan, and apply it.")
	}
	return attention, next
}
