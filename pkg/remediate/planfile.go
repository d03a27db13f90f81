package remediate

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/orgscan/orgscan/pkg/scan"
)

// MaxPlanSize bounds the plan ReadPlan reads: far above the plan of the
// largest organization AWS allows, far below what would hurt to hold.
const MaxPlanSize = 256 << 20

// clockSkew is how far in the future a plan's creation time may lie: the
// planning and the applying machine need not agree to the second.
const clockSkew = 5 * time.Minute

// Digest is the plan's fingerprint, "sha256:" and the hex SHA-256 of its
// JSON with Meta.Plan.Digest empty. The JSON is Go's encoding of the
// Report (json.Marshal's bytes), so a plan read back and encoded again
// gives the same bytes whatever the file's layout: the digest is of the
// content, not of the file. It is hashed an account at a time, never held
// whole. It tells a plan changed after it was made from the plan as made,
// not who made it: anyone can compute it, so a reviewer compares it with
// the digest the planner reported.
func (r *Report) Digest() (string, error) {
	h := sha256.New()
	if err := r.encodeContent(h); err != nil {
		return "", fmt.Errorf("encode the plan for its digest: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// encodeContent writes to h what json.Marshal makes of the report with
// Meta.Plan.Digest empty, an account at a time: Report's fields in order,
// each as json.Marshal encodes it alone (TestDigestIsOfTheReportsJSON
// holds the two equal). A hash's Write never fails.
func (r *Report) encodeContent(h hash.Hash) error {
	m := r.Remediation
	m.Plan.Digest = ""
	head, err := json.Marshal(struct {
		SchemaVersion string `json:"schema_version"`
		Kind          string `json:"kind"`
		Remediation   Meta   `json:"remediation"`
	}{r.SchemaVersion, r.Kind, m})
	if err != nil {
		return err
	}
	// The head's closing brace gives way to the accounts.
	h.Write(head[:len(head)-1])
	h.Write([]byte(`,"accounts":`))
	if r.Accounts == nil {
		h.Write([]byte("null}"))
		return nil
	}
	h.Write([]byte("["))
	for i := range r.Accounts {
		if i > 0 {
			h.Write([]byte(","))
		}
		b, err := json.Marshal(&r.Accounts[i])
		if err != nil {
			return err
		}
		h.Write(b)
	}
	h.Write([]byte("]}"))
	return nil
}

// ReadPlan reads a saved plan strictly: at most MaxPlanSize bytes of one
// JSON document with no field orgscan does not write, of the kind, schema
// version and mode of a plan, whose digest matches its content and whose
// every account and action is one a plan can hold. Its errors are
// *scan.Error values at StagePlan: ErrorCodeMalformedPlan, or
// ErrorCodePlanEdited when the content does not match the digest.
func ReadPlan(r io.Reader) (*Report, error) { return readPlan(r, MaxPlanSize) }

func readPlan(r io.Reader, limit int64) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &scan.Error{Stage: StagePlan, Code: scan.CodeUnknown, Err: fmt.Errorf("read the plan: %w", err)}
	}
	if int64(len(data)) > limit {
		return nil, malformed("the plan is larger than %d bytes: it is not a plan orgscan wrote", limit)
	}
	if !utf8.Valid(data) {
		return nil, malformed("the plan is not UTF-8 text")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Report
	if err := dec.Decode(&p); err != nil {
		return nil, malformed("the plan is not a remediation plan's JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("the plan has more after its JSON document")
	}
	if err := checkIdentity(&p); err != nil {
		return nil, err
	}
	if err := checkDigest(&p); err != nil {
		return nil, err
	}
	if err := validatePlan(&p); err != nil {
		return nil, err
	}
	return &p, nil
}

// CheckPlan tells whether a plan may be applied by a caller of
// organization orgID at time now: it must be a plan (ErrorCodeMalformedPlan),
// intact (ErrorCodePlanEdited), of that organization
// (ErrorCodePlanOtherOrganization) and made at most maxAge ago
// (ErrorCodePlanTooOld; DefaultMaxPlanAge when maxAge is zero).
func CheckPlan(p *Report, orgID string, now time.Time, maxAge time.Duration) error {
	if p == nil {
		return &scan.Error{Stage: StagePlan, Code: ErrorCodeNoPlan, Hint: HintNewPlan, Err: errors.New("no plan to apply")}
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxPlanAge
	}
	if err := checkIdentity(p); err != nil {
		return err
	}
	if err := checkDigest(p); err != nil {
		return err
	}
	if err := validatePlan(p); err != nil {
		return err
	}
	m := p.Remediation
	if m.OrganizationID != orgID {
		return &scan.Error{Stage: StagePlan, Code: ErrorCodePlanOtherOrganization, Hint: HintNewPlan, Err: fmt.Errorf(
			"the plan was made for organization %s, and the caller is in organization %s: apply it with credentials of %s, or make a plan for %s",
			m.OrganizationID, orgID, m.OrganizationID, orgID)}
	}
	created := m.Plan.CreatedAt
	if created.After(now.Add(clockSkew)) {
		return malformed("the plan was made at %s, which is later than now (%s)", created.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if age := now.Sub(created); age > maxAge {
		return &scan.Error{Stage: StagePlan, Code: ErrorCodePlanTooOld, Hint: HintMaxPlanAge, Err: fmt.Errorf(
			"the plan was made at %s, %s ago, and plans older than %s are refused: the accounts may have changed since; make a new plan, or allow an older one",
			created.UTC().Format(time.RFC3339), age.Round(time.Minute), maxAge)}
	}
	return nil
}

func malformed(format string, args ...any) error {
	return &scan.Error{Stage: StagePlan, Code: ErrorCodeMalformedPlan, Hint: HintNewPlan, Err: fmt.Errorf(format, args...)}
}

// checkIdentity refuses a document that is not a plan at all.
func checkIdentity(p *Report) error {
	switch {
	case p.Kind != ReportKind:
		return malformed("the document is not a remediation plan: its kind is %q, not %q", truncate(p.Kind, 40), ReportKind)
	case p.SchemaVersion != SchemaVersion:
		return malformed("the plan's schema version is %q; this orgscan reads version %q", truncate(p.SchemaVersion, 20), SchemaVersion)
	case p.Remediation.Mode == ModeApply:
		return malformed("the document is the evidence of an apply, not a plan")
	case p.Remediation.Mode != ModePlan:
		return malformed("the plan's mode is %q, not %q", truncate(p.Remediation.Mode, 20), ModePlan)
	}
	return nil
}

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func checkDigest(p *Report) error {
	want := p.Remediation.Plan.Digest
	if want == "" {
		return malformed("the plan carries no digest: it was made without its accounts, or is not a plan orgscan wrote")
	}
	if !digestPattern.MatchString(want) {
		return malformed("the plan's digest %q is not sha256: and 64 hex digits", truncate(want, 80))
	}
	got, err := p.Digest()
	if err != nil {
		return &scan.Error{Stage: StagePlan, Code: ErrorCodeMalformedPlan, Err: err}
	}
	if got != want {
		return &scan.Error{Stage: StagePlan, Code: ErrorCodePlanEdited, Hint: HintNewPlan, Err: fmt.Errorf(
			"the plan's content does not match its digest %s: it was changed after it was made; make a new plan and review it", want)}
	}
	return nil
}

// Identifiers IAM hands out (botocore iam 2010-05-08 service-2.json,
// shapes accessKeyIdType, certificateIdType and serialNumberType): a plan
// whose ids break them is not sent to IAM.
var (
	accessKeyIDPattern = regexp.MustCompile(`^[\w]{16,128}$`)
	certificatePattern = regexp.MustCompile(`^[\w]{24,128}$`)
	mfaSerialPattern   = regexp.MustCompile(`^[\w+=/:,.@-]{9,256}$`)
)

// planStatuses are the statuses a plan's account may have.
var planStatuses = map[string]bool{
	StatusPlanned: true, StatusHeld: true, StatusNothingToDo: true,
	StatusSkipped: true, StatusError: true, StatusNotStarted: true,
}

// validatePlan checks what a plan must hold for Apply to act on it
// safely: the organization, the selection, and each account's actions.
func validatePlan(p *Report) error {
	m := p.Remediation
	if !scan.ValidOrganizationID(m.OrganizationID) {
		return malformed("the plan's organization id %q is not an organization id", truncate(m.OrganizationID, 40))
	}
	if !scan.ValidAccountID(m.ManagementAccountID) {
		return malformed("the plan's management account id %q is not an account id", truncate(m.ManagementAccountID, 40))
	}
	if m.Plan.CreatedAt.IsZero() {
		return malformed("the plan does not say when it was made")
	}
	sel, err := ParseSelection(m.Options.Delete)
	if err != nil {
		return malformed("the plan's selection of credentials to delete is not valid: %v", err)
	}
	if m.Options.RecentDays < 1 {
		return malformed("the plan's recent-use window of %d days is not valid", m.Options.RecentDays)
	}
	if p.Accounts == nil {
		return malformed("the plan lists no accounts")
	}
	seen := make(map[string]bool, len(p.Accounts))
	for i := range p.Accounts {
		a := &p.Accounts[i]
		if !scan.ValidAccountID(a.AccountID) {
			return malformed("account %d of the plan has the id %q, which is not an account id", i+1, truncate(a.AccountID, 40))
		}
		if seen[a.AccountID] {
			return malformed("account %s is in the plan twice", a.AccountID)
		}
		seen[a.AccountID] = true
		if !planStatuses[a.Status] {
			return malformed("account %s has the status %q, which no plan gives", a.AccountID, truncate(a.Status, 40))
		}
		if err := validateActions(a, sel); err != nil {
			return err
		}
	}
	return nil
}

func validateActions(a *Account, sel Selection) error {
	deletes := 0
	type key struct{ kind, id string }
	seen := map[key]bool{}
	for j, x := range a.Actions {
		bad := func(format string, args ...any) error {
			return malformed("account %s, action %d: %s", a.AccountID, j+1, fmt.Sprintf(format, args...))
		}
		if !sel.selects(x.Kind) {
			return bad("kind %q is not one the plan selects", truncate(x.Kind, 40))
		}
		var ok bool
		switch x.Kind {
		case KindAccessKey:
			ok = accessKeyIDPattern.MatchString(x.ID)
		case KindSigningCertificate:
			ok = certificatePattern.MatchString(x.ID)
		case KindMFADevice:
			ok = mfaSerialPattern.MatchString(x.ID)
		case KindPassword:
			ok = x.ID == ""
		}
		if !ok {
			return bad("%q is not the id of a %s", truncate(x.ID, 80), x.Kind)
		}
		k := key{x.Kind, x.ID}
		if seen[k] {
			return bad("%s is named twice", credentialName(x.Kind, x.ID))
		}
		seen[k] = true
		switch {
		case x.Decision == DecisionDelete && x.Outcome == OutcomePlanned && x.Hold == "":
			deletes++
		case x.Decision == DecisionHold && x.Outcome == OutcomeHeld && (x.Hold == HoldRecentlyUsed || x.Hold == HoldProtectsCredentials):
		default:
			return bad("decision %q with outcome %q and hold %q is not one a plan makes", truncate(x.Decision, 20), truncate(x.Outcome, 20), truncate(x.Hold, 40))
		}
		if x.At != nil || x.Error != nil || x.RequestID != "" {
			return bad("a plan's action has no time, error or request id: it is the evidence of an apply")
		}
	}
	if (a.Status == StatusPlanned) != (deletes > 0) {
		return malformed("account %s has the status %q and %d deletions", a.AccountID, a.Status, deletes)
	}
	return nil
}
