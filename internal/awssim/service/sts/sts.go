// Package sts simulates AWS STS over the query protocol: GetCallerIdentity,
// and AssumeRole and AssumeRoot, which issue sessions into the store of
// principals.
package sts

import (
	"crypto/sha256"
	"encoding/xml"
	"fmt"
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

// Service answers STS: it reads the organization and issues sessions into
// the principals' store.
type Service struct {
	world *world.World
	creds *auth.Store
}

// New serves STS for the organization w, issuing sessions into creds.
func New(w *world.World, creds *auth.Store) *Service { return &Service{world: w, creds: creds} }

// Ops are the simulated operations by name.
func (s *Service) Ops() map[string]op.Func {
	return map[string]op.Func{
		"GetCallerIdentity": s.getCallerIdentity,
		"AssumeRole":        s.assumeRole,
		"AssumeRoot":        s.assumeRoot,
	}
}

type getCallerIdentityResult struct {
	XMLName xml.Name `xml:"GetCallerIdentityResult"`
	Arn     string   `xml:"Arn"`
	UserID  string   `xml:"UserId"`
	Account string   `xml:"Account"`
}

// getCallerIdentity reports the caller as AWS does: an IAM user's ARN, an
// assumed-role session as arn:aws:sts::ACCT:assumed-role/ROLE/SESSION with
// UserId ROLEID:SESSION, and a root session as arn:aws:iam::ACCT:root with
// the account id as UserId. The principal carries those at issue time.
func (s *Service) getCallerIdentity(c *op.Call) (any, error) {
	return &getCallerIdentityResult{Arn: c.Caller.ARN, UserID: c.Caller.UserID, Account: c.Caller.AccountID}, nil
}

// stsCredentials is the Credentials element of AssumeRole and AssumeRoot.
type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

func credentialsOf(p *auth.Principal) stsCredentials {
	return stsCredentials{
		AccessKeyID:     p.AccessKeyID,
		SecretAccessKey: p.SecretAccessKey,
		SessionToken:    p.SessionToken,
		Expiration:      p.Expires.UTC().Format(time.RFC3339),
	}
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}

type assumeRoleResult struct {
	XMLName         xml.Name        `xml:"AssumeRoleResult"`
	Credentials     stsCredentials  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

type assumeRootResult struct {
	XMLName     xml.Name       `xml:"AssumeRootResult"`
	Credentials stsCredentials `xml:"Credentials"`
}

// Session limits from the STS API reference.
const (
	minRoleSession        = 900
	maxRoleSession        = 43200
	defaultRoleSession    = 3600
	roleChainingMax       = 3600
	maxRootSession        = 900
	defaultMaxRoleSession = 3600
)

var (
	roleSessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern      = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// validationError is the query protocol's constraint failure, worded as
// STS words it.
func validationError(format string, args ...any) *wire.APIError {
	return wire.Errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func constraintError(value, member, constraint string) *wire.APIError {
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

func requiredError(member string) *wire.APIError {
	return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", member)
}

// accessDenied is STS's refusal. AWS gives the same answer whether the role
// is missing, does not trust the caller, wants another external id, or
// lives in an account that cannot be used, so a client cannot probe which.
func accessDenied(callerARN, action, resource string) *wire.APIError {
	return wire.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", callerARN, action, resource)
}

// durationParam reads DurationSeconds; ok is false when it is absent.
func durationParam(form map[string][]string) (d int, ok bool, err error) {
	vs := form["DurationSeconds"]
	if len(vs) == 0 || vs[0] == "" {
		return 0, false, nil
	}
	d, err = strconv.Atoi(vs[0])
	if err != nil {
		return 0, false, validationError("DurationSeconds %q is not an integer", vs[0])
	}
	return d, true, nil
}

// roleARN is a parsed arn:aws:iam::ACCOUNT:role/PATH/NAME.
type roleARN struct {
	Account string
	Path    string // "/" or "/a/b/"
	Name    string
}

func parseRoleARN(s string) (roleARN, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "iam" || parts[3] != "" {
		return roleARN{}, false
	}
	if !fixture.IsAccountID(parts[4]) || !strings.HasPrefix(parts[5], "role/") {
		return roleARN{}, false
	}
	rest := strings.TrimPrefix(parts[5], "role")
	i := strings.LastIndexByte(rest, '/')
	name := rest[i+1:]
	if name == "" {
		return roleARN{}, false
	}
	return roleARN{Account: parts[4], Path: rest[:i+1], Name: name}, true
}

// usableForSessions tells whether STS hands out sessions in an account in
// this state. AWS refuses AssumeRole into a SUSPENDED (and so CLOSED)
// account with the plain AccessDenied "not authorized to perform:
// sts:AssumeRole" answer, as reported in
// aws-samples/aws-security-reference-architecture-examples#218 and
// awslabs/landing-zone-accelerator-on-aws#727. A PENDING_ACTIVATION
// account is documented as unusable until sign-up completes, while a
// PENDING_CLOSURE account "remains functional and can still be used to
// access AWS services while the closure request is processed" (AWS
// Organizations User Guide, "Monitor the state of your AWS accounts"), so
// it still accepts sessions.
func usableForSessions(state string) bool {
	return state == "ACTIVE" || state == "PENDING_CLOSURE"
}

// stsInactive tells whether STS is deactivated, in the region a request
// was signed for, for the account the credentials would act in. The IAM
// User Guide ("Managing AWS STS in an AWS Region") has the account where the
// credentials are generated activate the region, whatever the caller's.
// Whether STS checks this before or after the role's trust is not
// documented; the simulator checks it last, a guess.
func stsInactive(a *fixture.Account, region string) bool {
	return slices.Contains(a.STSInactiveRegions, region)
}

// regionDisabled is STS's RegionDisabledException (403, a sender fault in
// botocore's sts/2011-06-15/service-2.json, listed for AssumeRole and
// AssumeRoot), worded as AWS words it in answers quoted in public issues
// (turbot/steampipe-plugin-aws#1510, org-formation/org-formation-cli#465).
func regionDisabled(accountID string) *wire.APIError {
	return wire.Errorf(http.StatusForbidden, "RegionDisabledException",
		"STS is not activated in this region for account:%s. Your account administrator can activate STS in this region using the IAM Console.", accountID)
}

// trusts tells whether a role's trust policy admits the caller: a trusted
// entry names the caller's account (as an id or its :root ARN), the
// caller's exact ARN, or, for an assumed-role session, the role it came from.
func trusts(r *fixture.Role, caller *auth.Principal) bool {
	for _, t := range r.TrustedAccounts {
		switch {
		case t == caller.AccountID, t == "arn:aws:iam::"+caller.AccountID+":root", t == caller.ARN:
			return true
		case caller.Kind == auth.AssumedRole:
			if ra, ok := parseRoleARN(t); ok && ra.Account == caller.AccountID && ra.Name == caller.RoleName {
				return true
			}
		}
	}
	return false
}

// roleID is a stable AROA... identifier for a role, as IAM assigns one.
func roleID(account, name string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	sum := sha256.Sum256([]byte(account + "/" + name))
	b := make([]byte, 17)
	for i := range b {
		b[i] = alphabet[sum[i]%32]
	}
	return "AROA" + string(b)
}

// assumeRole issues role credentials that act in the role's account.
func (s *Service) assumeRole(c *op.Call) (any, error) {
	arnParam, session := c.Form.Get("RoleArn"), c.Form.Get("RoleSessionName")
	switch {
	case arnParam == "":
		return nil, requiredError("roleArn")
	case session == "":
		return nil, requiredError("roleSessionName")
	case len(session) < 2:
		return nil, constraintError(session, "roleSessionName", "Member must have length greater than or equal to 2")
	case len(session) > 64:
		return nil, constraintError(session, "roleSessionName", "Member must have length less than or equal to 64")
	case !roleSessionNamePattern.MatchString(session):
		return nil, constraintError(session, "roleSessionName", `Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	}
	externalID, hasExternalID := c.Form.Get("ExternalId"), c.Form.Has("ExternalId")
	if hasExternalID && (len(externalID) < 2 || len(externalID) > 1224 || !externalIDPattern.MatchString(externalID)) {
		return nil, constraintError(externalID, "externalId", `Member must have length between 2 and 1224 and satisfy regular expression pattern: [\w+=,.@:/-]*`)
	}
	duration, hasDuration, err := durationParam(c.Form)
	if err != nil {
		return nil, err
	}
	if hasDuration && duration < minRoleSession {
		return nil, constraintError(strconv.Itoa(duration), "durationSeconds", "Member must have value greater than or equal to 900")
	}
	if hasDuration && duration > maxRoleSession {
		return nil, constraintError(strconv.Itoa(duration), "durationSeconds", "Member must have value less than or equal to 43200")
	}
	if !hasDuration {
		duration = defaultRoleSession
	}
	ra, ok := parseRoleARN(arnParam)
	if !ok {
		return nil, validationError("%s is not a valid role ARN", arnParam)
	}
	if c.Caller.Kind == auth.RootSession {
		return nil, wire.Errorf(http.StatusForbidden, "AccessDenied", "Roles may not be assumed by root accounts.")
	}
	denied := accessDenied(c.Caller.ARN, "sts:AssumeRole", arnParam)

	target, ok := s.world.Accounts[ra.Account]
	var role *fixture.Role
	if ok {
		for i := range target.Roles {
			r := &target.Roles[i]
			path := r.Path
			if path == "" {
				path = "/"
			}
			if r.Name == ra.Name && path == ra.Path {
				role = r
				break
			}
		}
	}
	var refusal error
	switch {
	case role == nil, !trusts(role, c.Caller), role.ExternalID != "" && externalID != role.ExternalID:
		refusal = denied
	case !usableForSessions(target.State):
		refusal = denied
	case stsInactive(target, c.Region):
		refusal = regionDisabled(ra.Account)
	}
	maxSession := defaultMaxRoleSession
	if role != nil && role.MaxSessionDuration > 0 {
		maxSession = int(role.MaxSessionDuration)
	}
	if refusal != nil {
		return nil, refusal
	}
	if duration > maxSession {
		return nil, validationError("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	if c.Caller.Kind == auth.AssumedRole && duration > roleChainingMax {
		return nil, validationError("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}

	id := roleID(ra.Account, ra.Name)
	p := s.creds.Issue(auth.Principal{
		AccountID:   ra.Account,
		ARN:         fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", ra.Account, ra.Name, session),
		UserID:      id + ":" + session,
		Kind:        auth.AssumedRole,
		RoleName:    ra.Name,
		SessionName: session,
		Expires:     c.Now.Add(time.Duration(duration) * time.Second),
	})
	return &assumeRoleResult{
		Credentials:     credentialsOf(p),
		AssumedRoleUser: assumedRoleUser{AssumedRoleID: p.UserID, Arn: p.ARN},
	}, nil
}

// rootTaskPolicies are the task policies AssumeRoot accepts, each with the
// centralized root access feature that enables it: managing root
// credentials (audit, create a password, delete) needs
// RootCredentialsManagement, while the privileged unlock actions need
// RootSessions ("privileged root actions in member accounts").
var rootTaskPolicies = map[string]func(fixture.Features) bool{
	"IAMAuditRootUserCredentials":  func(f fixture.Features) bool { return f.RootCredentialsManagement },
	"IAMCreateRootUserPassword":    func(f fixture.Features) bool { return f.RootCredentialsManagement },
	"IAMDeleteRootUserCredentials": func(f fixture.Features) bool { return f.RootCredentialsManagement },
	"S3UnlockBucketPolicy":         func(f fixture.Features) bool { return f.RootSessions },
	"SQSUnlockQueuePolicy":         func(f fixture.Features) bool { return f.RootSessions },
}

// assumeRoot issues a short root session in a member account, scoped by an
// AWS managed task policy. AWS documents who may call it (the management
// account or IAM's delegated administrator, never root credentials) and
// that centralized root access must be enabled; every refusal of that kind
// is the AccessDenied "not authorized to perform: sts:AssumeRoot on
// resource: arn:aws:iam::TARGET:root" answer.
func (s *Service) assumeRoot(c *op.Call) (any, error) {
	targetParam, policy := c.Form.Get("TargetPrincipal"), c.Form.Get("TaskPolicyArn.arn")
	switch {
	case targetParam == "":
		return nil, requiredError("targetPrincipal")
	case len(targetParam) < 12:
		return nil, constraintError(targetParam, "targetPrincipal", "Member must have length greater than or equal to 12")
	case policy == "":
		return nil, requiredError("taskPolicyArn")
	}
	duration, hasDuration, err := durationParam(c.Form)
	if err != nil {
		return nil, err
	}
	switch {
	case hasDuration && duration < 0:
		return nil, constraintError(strconv.Itoa(duration), "durationSeconds", "Member must have value greater than or equal to 0")
	case hasDuration && duration > maxRootSession:
		return nil, constraintError(strconv.Itoa(duration), "durationSeconds", "Member must have value less than or equal to 900")
	case !hasDuration || duration == 0:
		// Zero reads as "not given": a session that expires as it is
		// issued would be of no use, and AWS's default is 900.
		duration = maxRootSession
	}
	target := auth.AccountOfPrincipal(targetParam)
	resource := "arn:aws:iam::" + target + ":root"
	if target == "" {
		resource = targetParam
	}
	if c.Caller.Kind == auth.RootSession {
		return nil, wire.Errorf(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRoot on resource: %s because root user credentials cannot call sts:AssumeRoot", c.Caller.ARN, resource)
	}
	denied := accessDenied(c.Caller.ARN, "sts:AssumeRoot", resource)
	enabledBy, known := rootTaskPolicies[strings.TrimPrefix(policy, auth.RootTaskPolicyPrefix)]
	if !strings.HasPrefix(policy, auth.RootTaskPolicyPrefix) || !known {
		denied.Message += " because " + policy + " is not a root task policy under " + auth.RootTaskPolicyPrefix
		return nil, denied
	}

	w := s.world
	features := w.Org.Features
	callerIsAdmin := w.InOrganization(c.Caller.AccountID) && w.IsIAMAdministrator(c.Caller.AccountID)
	acct, inOrg := w.Accounts[target]
	isManagement := target == w.Org.ManagementAccountID
	regionOff := inOrg && stsInactive(acct, c.Region)

	switch {
	case !callerIsAdmin:
		return nil, denied
	case !features.IAMTrustedAccess || !enabledBy(features):
		denied.Message += " because centralized root access is not enabled for this task in the organization"
		return nil, denied
	case !inOrg, isManagement, !usableForSessions(acct.State):
		return nil, denied
	case regionOff:
		return nil, regionDisabled(target)
	}

	p := s.creds.Issue(auth.Principal{
		AccountID:     target,
		ARN:           "arn:aws:iam::" + target + ":root",
		UserID:        target,
		Kind:          auth.RootSession,
		TaskPolicyARN: policy,
		Expires:       c.Now.Add(time.Duration(duration) * time.Second),
	})
	return &assumeRootResult{Credentials: credentialsOf(p)}, nil
}
