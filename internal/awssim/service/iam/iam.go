// Package iam simulates AWS IAM over the query protocol (Version
// 2010-05-08, XML answers). The simulator answers, per account the
// credentials act in:
//
//   - GetAccountSummary: the full SummaryMap with today's default quotas;
//     Users counts the account's fixture credentials, Roles its modelled
//     roles, MFADevices the root MFA; Account.Summary overrides any count;
//     AccountMFAEnabled, AccountAccessKeysPresent (any root key, active or
//     not), AccountPasswordPresent and AccountSigningCertificatesPresent
//     always come from the modelled root user. DenyGetAccountSummary makes
//     it AccessDenied as a service control policy would.
//   - ListOrganizationsFeatures, for the management account or IAM's
//     delegated administrator, when trusted access for IAM is enabled in
//     an organization with all features.
//   - GenerateCredentialReport / GetCredentialReport (credreport.go).
//   - ListAccessKeys, ListSigningCertificates, ListMFADevices,
//     GetLoginProfile, GetAccessKeyLastUsed and GetUser. Without a UserName
//     they answer for the root user in an AssumeRoot session, for the
//     calling user with fixture credentials, and are a ValidationError for
//     any other session. Fixture credentials are the account's IAM users.
//   - DeleteAccessKey, DeleteSigningCertificate, DeleteLoginProfile and
//     DeactivateMFADevice on the root user, in a root session whose task
//     policy allows them (rootcreds.go). The deletions are real: the
//     service owns each account's root credentials from its first change
//     on, and every read above sees them.
//
// A root session is held to its task policy: the actions the AWS managed
// root-task policy leaves open, on the root user only; every other action,
// simulated or not, is AccessDenied "with an explicit deny in a session
// policy". Other principals act as administrators of their account.
package iam

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/op"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"github.com/orgscan/orgscan/internal/awssim/world"
)

// Service answers IAM in the account the credentials act in. The
// organization is read-only; credential reports and the root users'
// credentials are the state IAM's operations change.
type Service struct {
	world *world.World
	creds *auth.Store
	ops   map[string]op.Func
	roots rootUsers

	reportsMu sync.Mutex
	reports   map[string]*credentialReport // by account id
}

// New serves IAM for the organization w, whose principals are in creds.
func New(w *world.World, creds *auth.Store) *Service {
	s := &Service{world: w, creds: creds, reports: map[string]*credentialReport{}}
	s.ops = s.iamOps()
	return s
}

// Ops are every action of the IAM API by name, built once.
func (s *Service) Ops() map[string]op.Func { return s.ops }

// iamOps maps every action of the IAM API to its handler. Every action,
// simulated or not, goes through the same authorization first, so that a
// root session is denied an action exactly as its task policy would deny
// it, even one the simulator does not otherwise answer.
func (s *Service) iamOps() map[string]op.Func {
	simulated := map[string]op.Func{
		"GetAccountSummary":         s.getAccountSummary,
		"ListOrganizationsFeatures": s.listOrganizationsFeatures,
		"GenerateCredentialReport":  s.generateCredentialReport,
		"GetCredentialReport":       s.getCredentialReport,
		"ListAccessKeys":            s.listAccessKeys,
		"ListSigningCertificates":   s.listSigningCertificates,
		"ListMFADevices":            s.listMFADevices,
		"GetLoginProfile":           s.getLoginProfile,
		"GetAccessKeyLastUsed":      s.getAccessKeyLastUsed,
		"GetUser":                   s.getUser,
		"ListVirtualMFADevices":     s.listVirtualMFADevices,
		"DeleteAccessKey":           s.deleteAccessKey,
		"DeleteSigningCertificate":  s.deleteSigningCertificate,
		"DeleteLoginProfile":        s.deleteLoginProfile,
		"DeactivateMFADevice":       s.deactivateMFADevice,
	}
	notSimulated := s.authorizeIAM(notSimulatedIAM)
	ops := make(map[string]op.Func, len(iamActionNames))
	for _, name := range iamActionNames {
		if fn, ok := simulated[name]; ok {
			ops[name] = s.authorizeIAM(fn)
		} else {
			ops[name] = notSimulated
		}
	}
	return ops
}

// iamActionNames are the actions of the IAM API model (2010-05-08). A name
// outside this list is InvalidAction, as AWS answers it before any policy is
// evaluated; a name in it is a real action and subject to authorization.
var iamActionNames = strings.Fields(`
AcceptDelegationRequest AddClientIDToOpenIDConnectProvider AddRoleToInstanceProfile AddUserToGroup
AssociateDelegationRequest AttachGroupPolicy AttachRolePolicy AttachUserPolicy ChangePassword
CreateAccessKey CreateAccountAlias CreateDelegationRequest CreateGroup CreateInstanceProfile
CreateLoginProfile CreateOpenIDConnectProvider CreatePolicy CreatePolicyVersion CreateRole
CreateSAMLProvider CreateServiceLinkedRole CreateServiceSpecificCredential CreateUser
CreateVirtualMFADevice DeactivateMFADevice DeleteAccessKey DeleteAccountAlias
DeleteAccountPasswordPolicy DeleteGroup DeleteGroupPolicy DeleteInstanceProfile DeleteLoginProfile
DeleteOpenIDConnectProvider DeletePolicy DeletePolicyVersion DeleteRole DeleteRolePermissionsBoundary
DeleteRolePolicy DeleteSAMLProvider DeleteSSHPublicKey DeleteServerCertificate DeleteServiceLinkedRole
DeleteServiceSpecificCredential DeleteSigningCertificate DeleteUser DeleteUserPermissionsBoundary
DeleteUserPolicy DeleteVirtualMFADevice DetachGroupPolicy DetachRolePolicy DetachUserPolicy
DisableOrganizationsRootCredentialsManagement DisableOrganizationsRootSessions
DisableOutboundWebIdentityFederation EnableMFADevice EnableOrganizationsRootCredentialsManagement
EnableOrganizationsRootSessions EnableOutboundWebIdentityFederation GenerateCredentialReport
GenerateOrganizationsAccessReport GenerateServiceLastAccessedDetails GetAccessKeyLastUsed
GetAccountAuthorizationDetails GetAccountPasswordPolicy GetAccountSummary GetContextKeysForCustomPolicy
GetContextKeysForPrincipalPolicy GetCredentialReport GetDelegationRequest GetGroup GetGroupPolicy
GetHumanReadableSummary GetInstanceProfile GetLoginProfile GetMFADevice GetOpenIDConnectProvider
GetOrganizationsAccessReport GetOutboundWebIdentityFederationInfo GetPolicy GetPolicyVersion GetRole
GetRolePolicy GetSAMLProvider GetSSHPublicKey GetServerCertificate GetServiceLastAccessedDetails
GetServiceLastAccessedDetailsWithEntities GetServiceLinkedRoleDeletionStatus GetUser GetUserPolicy
ListAccessKeys ListAccountAliases ListAttachedGroupPolicies ListAttachedRolePolicies
ListAttachedUserPolicies ListDelegationRequests ListEntitiesForPolicy ListGroupPolicies ListGroups
ListGroupsForUser ListInstanceProfileTags ListInstanceProfiles ListInstanceProfilesForRole
ListMFADeviceTags ListMFADevices ListOpenIDConnectProviderTags ListOpenIDConnectProviders
ListOrganizationsFeatures ListPolicies ListPoliciesGrantingServiceAccess ListPolicyTags
ListPolicyVersions ListRolePolicies ListRoleTags ListRoles ListSAMLProviderTags ListSAMLProviders
ListSSHPublicKeys ListServerCertificateTags ListServerCertificates ListServiceSpecificCredentials
ListSigningCertificates ListUserPolicies ListUserTags ListUsers ListVirtualMFADevices PutGroupPolicy
PutRolePermissionsBoundary PutRolePolicy PutUserPermissionsBoundary PutUserPolicy
RejectDelegationRequest RemoveClientIDFromOpenIDConnectProvider RemoveRoleFromInstanceProfile
RemoveUserFromGroup ResetServiceSpecificCredential ResyncMFADevice SendDelegationToken
SetDefaultPolicyVersion SetSecurityTokenServicePreferences SimulateCustomPolicy SimulatePrincipalPolicy
TagInstanceProfile TagMFADevice TagOpenIDConnectProvider TagPolicy TagRole TagSAMLProvider
TagServerCertificate TagUser UntagInstanceProfile UntagMFADevice UntagOpenIDConnectProvider UntagPolicy
UntagRole UntagSAMLProvider UntagServerCertificate UntagUser UpdateAccessKey UpdateAccountPasswordPolicy
UpdateAssumeRolePolicy UpdateDelegationRequest UpdateGroup UpdateLoginProfile
UpdateOpenIDConnectProviderThumbprint UpdateRole UpdateRoleDescription UpdateSAMLProvider
UpdateSSHPublicKey UpdateServerCertificate UpdateServiceSpecificCredential UpdateSigningCertificate
UpdateUser UploadSSHPublicKey UploadServerCertificate UploadSigningCertificate
`)

func notSimulatedIAM(c *op.Call) (any, error) {
	return nil, wire.Errorf(http.StatusBadRequest, "InvalidAction", "iam:%s is a real IAM action that awssim does not simulate", c.Op)
}

// rootTaskActions lists, for each root-task managed policy, the IAM actions
// its first statement (a Deny with NotAction) leaves open. Its second
// statement denies those same actions, except GetAccountSummary, on any
// resource but the root user (NotResource arn:aws:iam::*:root). Source: the
// AWS managed policy documents in the IAM User Guide; IAMDeleteRootUserCredentials
// as its version v1 reads (AWS Managed Policy Reference,
// https://docs.aws.amazon.com/aws-managed-policy/latest/reference/IAMDeleteRootUserCredentials.html).
// That policy lists DeleteVirtualMFADevice, whose resource is the device
// (arn:aws:iam::ACCOUNT:mfa/NAME), never arn:aws:iam::*:root, so its second
// statement denies it: reading the policy so is the simulator's inference.
// A task policy not listed here (S3UnlockBucketPolicy, SQSUnlockQueuePolicy,
// or an unknown one) leaves no IAM action open.
var rootTaskActions = map[string][]string{
	"IAMAuditRootUserCredentials": {
		"ListAccessKeys", "ListSigningCertificates", "GetLoginProfile", "ListMFADevices",
		"GetAccountSummary", "GetUser", "GetAccessKeyLastUsed",
	},
	"IAMCreateRootUserPassword": {"CreateLoginProfile", "GetLoginProfile"},
	"IAMDeleteRootUserCredentials": {
		"DeleteAccessKey", "DeleteSigningCertificate", "DeleteLoginProfile", "DeactivateMFADevice",
		"DeleteVirtualMFADevice", "ListAccessKeys", "ListSigningCertificates", "GetLoginProfile",
		"ListMFADevices", "GetUser", "GetAccessKeyLastUsed",
	},
}

// authorizeIAM applies the policies the simulator models before an action
// runs: the task policy of a root session. Other principals are treated as
// administrators of their account.
func (s *Service) authorizeIAM(fn op.Func) op.Func {
	return func(c *op.Call) (any, error) {
		if c.Caller.Kind == auth.RootSession {
			if err := s.rootSessionDenies(c); err != nil {
				return nil, err
			}
		}
		return fn(c)
	}
}

func (s *Service) rootSessionDenies(c *op.Call) error {
	task, ok := strings.CutPrefix(c.Caller.TaskPolicyARN, auth.RootTaskPolicyPrefix)
	if !ok {
		task = "" // not an AWS managed root-task policy: nothing is open
	}
	resource := s.iamResource(c)
	deny := func() error {
		return wire.Errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: iam:%s on resource: %s with an explicit deny in a session policy",
			c.Caller.ARN, c.Op, resource)
	}
	if !slices.Contains(rootTaskActions[task], c.Op) {
		return deny()
	}
	if c.Op != "GetAccountSummary" && resource != auth.RootUserARN(c.Caller.AccountID) {
		return deny()
	}
	return nil
}

// iamResource is the resource an IAM request acts on, as a policy sees it.
func (s *Service) iamResource(c *op.Call) string {
	acct := c.Caller.AccountID
	if name := c.Form.Get("UserName"); name != "" {
		return "arn:aws:iam::" + acct + ":user/" + name
	}
	switch c.Op {
	case "ListAccessKeys", "ListSigningCertificates", "ListMFADevices", "GetLoginProfile", "GetUser",
		"CreateLoginProfile", "DeleteLoginProfile", "DeleteAccessKey", "DeleteSigningCertificate", "DeactivateMFADevice":
		// Without a UserName these act on the caller itself.
		if c.Caller.Kind == auth.RootSession {
			return auth.RootUserARN(acct)
		}
		return c.Caller.ARN
	case "DeleteVirtualMFADevice":
		if serial := c.Form.Get("SerialNumber"); serial != "" {
			return serial
		}
	case "GetAccessKeyLastUsed":
		id := c.Form.Get("AccessKeyId")
		if a := s.account(acct); s.world.InOrganization(acct) && rootKeyIndex(&a, id) >= 0 {
			return auth.RootUserARN(acct)
		}
		if p, ok := s.creds.Lookup(id); ok && p.Kind == auth.User && p.AccountID == acct {
			return p.ARN
		}
		return "access key " + id
	}
	return "*"
}

// account returns a copy of the account's modelled state, its root user as
// IAM's operations have left it; an account outside the fixture (a caller
// from outside the organization) is an empty account.
func (s *Service) account(id string) fixture.Account {
	a := *s.world.Account(id)
	a.Root = s.roots.current(&a)
	return a
}

// iamUser is an IAM user the simulator knows of: the owner of a fixture
// credential.
type iamUser struct {
	Name string
	ARN  string
	ID   string
	Keys []string
	// Created dates the user and its keys: fixture credentials carry no
	// creation time, so the simulator uses the account's creation.
	Created time.Time
}

// iamUsers lists the IAM users of an account, by name. Only fixture
// credentials make users, so this reads the fixture rather than every
// session the simulator has issued.
func (s *Service) iamUsers(accountID string) map[string]*iamUser {
	var created time.Time
	if a, ok := s.world.Accounts[accountID]; ok {
		created = rootCreated(a)
	}
	users := map[string]*iamUser{}
	for _, cred := range s.world.Credentials {
		p, ok := s.creds.Lookup(cred.AccessKeyID)
		if !ok || p.Kind != auth.User || p.AccountID != accountID {
			continue
		}
		u, ok := users[cred.UserName]
		if !ok {
			u = &iamUser{Name: cred.UserName, ARN: p.ARN, ID: p.UserID, Created: created}
			users[cred.UserName] = u
		}
		u.Keys = append(u.Keys, p.AccessKeyID)
	}
	for _, u := range users {
		sort.Strings(u.Keys)
	}
	return users
}

func userNameFromARN(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

// isoTime renders a timestamp as IAM's XML does.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func isoTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}

// memberList is a query-protocol list: <Name><member>..</member></Name>.
// Unlike a `Name>member` path tag, an empty list still renders its element.
type memberList[T any] struct {
	Members []T `xml:"member"`
}

// ---- GetAccountSummary ----

// SummaryEntry is one key of GetAccountSummary's SummaryMap.
type SummaryEntry struct {
	Key   string `xml:"key"`
	Value int32  `xml:"value"`
}

type getAccountSummaryResult struct {
	XMLName    xml.Name       `xml:"GetAccountSummaryResult"`
	SummaryMap []SummaryEntry `xml:"SummaryMap>entry"`
}

// DefaultSummary are the SummaryMap keys in the order of the API model, with
// the defaults of a fresh account (quotas as AWS documents them today).
var DefaultSummary = []SummaryEntry{
	{"Users", 0}, {"UsersQuota", 5000}, {"Groups", 0}, {"GroupsQuota", 300},
	{"ServerCertificates", 0}, {"ServerCertificatesQuota", 20},
	{"UserPolicySizeQuota", 2048}, {"GroupPolicySizeQuota", 5120}, {"GroupsPerUserQuota", 10},
	{"SigningCertificatesPerUserQuota", 2}, {"AccessKeysPerUserQuota", 2},
	{"MFADevices", 0}, {"MFADevicesInUse", 0},
	{"AccountMFAEnabled", 0}, {"AccountAccessKeysPresent", 0}, {"AccountPasswordPresent", 0},
	{"AccountSigningCertificatesPresent", 0},
	{"AttachedPoliciesPerGroupQuota", 10}, {"AttachedPoliciesPerRoleQuota", 10}, {"AttachedPoliciesPerUserQuota", 10},
	{"Policies", 0}, {"PoliciesQuota", 1500}, {"PolicySizeQuota", 6144},
	{"PolicyVersionsInUse", 0}, {"PolicyVersionsInUseQuota", 10000}, {"VersionsPerPolicyQuota", 5},
	{"GlobalEndpointTokenVersion", 1}, {"AssumeRolePolicySizeQuota", 2048},
	{"InstanceProfiles", 0}, {"InstanceProfilesQuota", 1000}, {"Providers", 0},
	{"RolePolicySizeQuota", 10240}, {"Roles", 0}, {"RolesQuota", 1000},
}

// rootFlags are computed from the modelled root user and cannot be
// overridden by a fixture's Summary.
var rootFlags = []string{"AccountMFAEnabled", "AccountAccessKeysPresent", "AccountPasswordPresent", "AccountSigningCertificatesPresent"}

func (s *Service) getAccountSummary(c *op.Call) (any, error) {
	a := s.account(c.Caller.AccountID)
	if a.Faults.DenyGetAccountSummary {
		return nil, wire.Errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: iam:GetAccountSummary on resource: * with an explicit deny in a service control policy",
			c.Caller.ARN)
	}
	return &getAccountSummaryResult{SummaryMap: s.Summary(&a)}, nil
}

// Summary computes the SummaryMap of an account.
func (s *Service) Summary(a *fixture.Account) []SummaryEntry {
	values := make(map[string]int32, len(DefaultSummary))
	for _, e := range DefaultSummary {
		values[e.Key] = e.Value
	}
	values["Users"] = int32(len(s.iamUsers(a.ID)))
	values["Roles"] = int32(len(a.Roles))
	if a.Root.MFA != "" {
		values["MFADevices"], values["MFADevicesInUse"] = 1, 1
	}
	var extra []string
	for k, v := range a.Summary {
		if slices.Contains(rootFlags, k) {
			continue
		}
		if _, known := values[k]; !known {
			extra = append(extra, k)
		}
		values[k] = v
	}
	// The API reference defines AccountAccessKeysPresent and
	// AccountSigningCertificatesPresent as "the root user has an access key /
	// a certificate": inactive ones count.
	values["AccountMFAEnabled"] = b2i(a.Root.MFA != "")
	values["AccountAccessKeysPresent"] = b2i(len(a.Root.AccessKeys) > 0)
	values["AccountPasswordPresent"] = b2i(a.Root.Password != nil)
	values["AccountSigningCertificatesPresent"] = b2i(len(a.Root.SigningCertificates) > 0)

	out := make([]SummaryEntry, 0, len(values))
	for _, e := range DefaultSummary {
		out = append(out, SummaryEntry{e.Key, values[e.Key]})
	}
	sort.Strings(extra)
	for _, k := range extra {
		out = append(out, SummaryEntry{k, values[k]})
	}
	return out
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// ---- ListOrganizationsFeatures ----

type listOrganizationsFeaturesResult struct {
	XMLName         xml.Name           `xml:"ListOrganizationsFeaturesResult"`
	OrganizationID  string             `xml:"OrganizationId"`
	EnabledFeatures memberList[string] `xml:"EnabledFeatures"`
}

func (s *Service) listOrganizationsFeatures(c *op.Call) (any, error) {
	acct := c.Caller.AccountID
	org := s.world.Org
	inOrg := s.world.InOrganization(acct)
	isAdmin := s.world.IsIAMAdministrator(acct)
	if !inOrg {
		return nil, wire.Errorf(http.StatusBadRequest, "OrganizationNotFoundException",
			"The request was rejected because no organization is associated with account %s.", acct)
	}
	// The four refusals are the operation's error shapes in the IAM service
	// model (botocore iam/2010-05-08/service-2.json). Which one wins when
	// several apply is not documented; this order is a guess, and orgscan
	// reads each of them as "unknown" with its own reason.
	if org.FeatureSet == fixture.FeatureSetConsolidatedBilling {
		return nil, wire.Errorf(http.StatusBadRequest, "OrganizationNotInAllFeaturesModeException",
			"The request was rejected because your organization does not have All features enabled.")
	}
	if !isAdmin {
		return nil, wire.Errorf(http.StatusBadRequest, "AccountNotManagementOrDelegatedAdministratorException",
			"The request was rejected because account %s is not the management account or delegated administrator account for centralized root access.", acct)
	}
	if !org.Features.IAMTrustedAccess {
		return nil, wire.Errorf(http.StatusBadRequest, "ServiceAccessNotEnabledException",
			"The request was rejected because trusted access is not enabled for IAM in Organizations.")
	}
	res := &listOrganizationsFeaturesResult{OrganizationID: org.ID}
	if org.Features.RootCredentialsManagement {
		res.EnabledFeatures.Members = append(res.EnabledFeatures.Members, "RootCredentialsManagement")
	}
	if org.Features.RootSessions {
		res.EnabledFeatures.Members = append(res.EnabledFeatures.Members, "RootSessions")
	}
	return res, nil
}

// ---- the caller's own credentials: root session, IAM user, or a role ----

// credentialSubject is whose credentials a user-scoped read acts on.
type credentialSubject struct {
	root bool     // the account's root user
	user *iamUser // an IAM user, when not root
}

// subject resolves the UserName parameter (or its absence) as IAM does:
// without a UserName, an IAM user acts on itself, a root session on the root
// user, and any other temporary credentials are a validation error.
func (s *Service) subject(c *op.Call) (credentialSubject, error) {
	acct := c.Caller.AccountID
	name := c.Form.Get("UserName")
	if name == "" {
		switch c.Caller.Kind {
		case auth.RootSession:
			return credentialSubject{root: true}, nil
		case auth.User:
			name = userNameFromARN(c.Caller.ARN)
		default:
			return credentialSubject{}, wire.Errorf(http.StatusBadRequest, "ValidationError",
				"Must specify userName when calling with non-User credentials")
		}
	}
	u, ok := s.iamUsers(acct)[name]
	if !ok {
		return credentialSubject{}, wire.Errorf(http.StatusNotFound, "NoSuchEntity", "The user with name %s cannot be found.", name)
	}
	return credentialSubject{user: u}, nil
}

// page applies MaxItems and Marker to a list of n items.
func page(c *op.Call, n int) (start, end int, marker string, err error) {
	maxItems := 100
	if v := c.Form.Get("MaxItems"); v != "" {
		m, convErr := strconv.Atoi(v)
		if convErr != nil || m < 1 || m > 1000 {
			return 0, 0, "", wire.Errorf(http.StatusBadRequest, "ValidationError",
				"1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		maxItems = m
	}
	if v := c.Form.Get("Marker"); v != "" {
		raw, decErr := base64.StdEncoding.DecodeString(v)
		off, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "awssim-marker-"))
		if decErr != nil || convErr != nil || !strings.HasPrefix(string(raw), "awssim-marker-") || off < 0 || off > n {
			return 0, 0, "", wire.Errorf(http.StatusBadRequest, "ValidationError", "Invalid Marker %q", v)
		}
		start = off
	}
	end = min(n, start+maxItems)
	if end < n {
		marker = base64.StdEncoding.EncodeToString([]byte("awssim-marker-" + strconv.Itoa(end)))
	}
	return start, end, marker, nil
}

type accessKeyMetadata struct {
	UserName    string `xml:"UserName,omitempty"`
	AccessKeyID string `xml:"AccessKeyId"`
	Status      string `xml:"Status"`
	CreateDate  string `xml:"CreateDate,omitempty"`
}

type listAccessKeysResult struct {
	XMLName           xml.Name                      `xml:"ListAccessKeysResult"`
	AccessKeyMetadata memberList[accessKeyMetadata] `xml:"AccessKeyMetadata"`
	IsTruncated       bool                          `xml:"IsTruncated"`
	Marker            string                        `xml:"Marker,omitempty"`
}

func (s *Service) listAccessKeys(c *op.Call) (any, error) {
	subj, err := s.subject(c)
	if err != nil {
		return nil, err
	}
	var keys []accessKeyMetadata
	if subj.root {
		// The root user has no user name; AWS leaves UserName out.
		a := s.account(c.Caller.AccountID)
		for _, k := range a.Root.AccessKeys {
			keys = append(keys, accessKeyMetadata{AccessKeyID: k.ID, Status: k.Status, CreateDate: isoTime(k.CreatedAt)})
		}
	} else {
		for _, id := range subj.user.Keys {
			keys = append(keys, accessKeyMetadata{UserName: subj.user.Name, AccessKeyID: id, Status: "Active", CreateDate: isoTime(subj.user.Created)})
		}
	}
	start, end, marker, err := page(c, len(keys))
	if err != nil {
		return nil, err
	}
	res := &listAccessKeysResult{IsTruncated: marker != "", Marker: marker}
	res.AccessKeyMetadata.Members = keys[start:end]
	return res, nil
}

type signingCertificate struct {
	UserName        string `xml:"UserName"`
	CertificateID   string `xml:"CertificateId"`
	CertificateBody string `xml:"CertificateBody"`
	Status          string `xml:"Status"`
	UploadDate      string `xml:"UploadDate"`
}

type listSigningCertificatesResult struct {
	XMLName      xml.Name                       `xml:"ListSigningCertificatesResult"`
	Certificates memberList[signingCertificate] `xml:"Certificates"`
	IsTruncated  bool                           `xml:"IsTruncated"`
	Marker       string                         `xml:"Marker,omitempty"`
}

func (s *Service) listSigningCertificates(c *op.Call) (any, error) {
	subj, err := s.subject(c)
	if err != nil {
		return nil, err
	}
	var certs []signingCertificate
	if subj.root {
		a := s.account(c.Caller.AccountID)
		for _, sc := range a.Root.SigningCertificates {
			certs = append(certs, signingCertificate{
				// The model requires a UserName; for the root user the
				// simulator answers with the account id.
				UserName:        c.Caller.AccountID,
				CertificateID:   sc.ID,
				CertificateBody: certificateBody(sc.ID),
				Status:          sc.Status,
				UploadDate:      isoTime(sc.UploadedAt),
			})
		}
	}
	start, end, marker, err := page(c, len(certs))
	if err != nil {
		return nil, err
	}
	res := &listSigningCertificatesResult{IsTruncated: marker != "", Marker: marker}
	res.Certificates.Members = certs[start:end]
	return res, nil
}

// certificateBody is a PEM-shaped placeholder: the simulator models that a
// certificate exists, not its key material.
func certificateBody(id string) string {
	return "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString([]byte("awssim certificate "+id)) + "\n-----END CERTIFICATE-----\n"
}

type mfaDevice struct {
	UserName     string `xml:"UserName"`
	SerialNumber string `xml:"SerialNumber"`
	EnableDate   string `xml:"EnableDate"`
}

type listMFADevicesResult struct {
	XMLName     xml.Name              `xml:"ListMFADevicesResult"`
	MFADevices  memberList[mfaDevice] `xml:"MFADevices"`
	IsTruncated bool                  `xml:"IsTruncated"`
	Marker      string                `xml:"Marker,omitempty"`
}

// RootMFASerial is the serial number the simulator gives a root user's MFA
// device: a virtual device is named by an ARN under :mfa/, as AWS names
// virtual devices; a hardware TOTP token by a plain serial. Clients can tell
// the kinds apart the same way on AWS.
func RootMFASerial(accountID, kind string) string {
	if kind == "virtual" {
		return "arn:aws:iam::" + accountID + ":mfa/root-account-mfa-device"
	}
	return "GAHT" + accountID[len(accountID)-8:]
}

func (s *Service) listMFADevices(c *op.Call) (any, error) {
	subj, err := s.subject(c)
	if err != nil {
		return nil, err
	}
	var devices []mfaDevice
	if subj.root {
		a := s.account(c.Caller.AccountID)
		if a.Root.MFA != "" {
			enabled := a.Root.CreatedAt
			if a.Root.MFAEnabledAt != nil {
				enabled = *a.Root.MFAEnabledAt
			}
			devices = append(devices, mfaDevice{
				UserName:     c.Caller.AccountID,
				SerialNumber: RootMFASerial(a.ID, a.Root.MFA),
				EnableDate:   isoTime(enabled),
			})
		}
	}
	start, end, marker, err := page(c, len(devices))
	if err != nil {
		return nil, err
	}
	res := &listMFADevicesResult{IsTruncated: marker != "", Marker: marker}
	res.MFADevices.Members = devices[start:end]
	return res, nil
}

type loginProfile struct {
	UserName              string `xml:"UserName"`
	CreateDate            string `xml:"CreateDate"`
	PasswordResetRequired bool   `xml:"PasswordResetRequired"`
}

type getLoginProfileResult struct {
	XMLName      xml.Name     `xml:"GetLoginProfileResult"`
	LoginProfile loginProfile `xml:"LoginProfile"`
}

func (s *Service) getLoginProfile(c *op.Call) (any, error) {
	subj, err := s.subject(c)
	if err != nil {
		return nil, err
	}
	if !subj.root {
		// Fixture users sign requests; none has a console password.
		return nil, wire.Errorf(http.StatusNotFound, "NoSuchEntity", "Login Profile for User %s cannot be found.", subj.user.Name)
	}
	a := s.account(c.Caller.AccountID)
	if a.Root.Password == nil {
		return nil, wire.Errorf(http.StatusNotFound, "NoSuchEntity", "Login Profile for User %s cannot be found.", c.Caller.AccountID)
	}
	return &getLoginProfileResult{LoginProfile: loginProfile{
		UserName:              c.Caller.AccountID,
		CreateDate:            isoTime(a.Root.Password.CreatedAt),
		PasswordResetRequired: a.Root.PasswordReset,
	}}, nil
}

type accessKeyLastUsed struct {
	LastUsedDate *string `xml:"LastUsedDate,omitempty"`
	ServiceName  string  `xml:"ServiceName"`
	Region       string  `xml:"Region"`
}

type getAccessKeyLastUsedResult struct {
	XMLName           xml.Name          `xml:"GetAccessKeyLastUsedResult"`
	UserName          string            `xml:"UserName,omitempty"`
	AccessKeyLastUsed accessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

func (s *Service) getAccessKeyLastUsed(c *op.Call) (any, error) {
	id := c.Form.Get("AccessKeyId")
	if id == "" {
		return nil, wire.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value null at 'accessKeyId' failed to satisfy constraint: Member must not be null")
	}
	acct := c.Caller.AccountID
	a := s.account(acct)
	// AWS reports "N/A" for a key that was never used, and no date.
	used := accessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}
	if i := rootKeyIndex(&a, id); i >= 0 {
		k := a.Root.AccessKeys[i]
		if k.LastUsedAt != nil {
			used.LastUsedDate = isoTimePtr(k.LastUsedAt)
			used.ServiceName = orNA(k.LastUsedService)
			used.Region = orNA(k.LastUsedRegion)
		}
		return &getAccessKeyLastUsedResult{AccessKeyLastUsed: used}, nil
	}
	for _, u := range s.iamUsers(acct) {
		if slices.Contains(u.Keys, id) {
			return &getAccessKeyLastUsedResult{UserName: u.Name, AccessKeyLastUsed: used}, nil
		}
	}
	// A key of another account, or none at all, is not a resource the
	// caller may read.
	return nil, wire.Errorf(http.StatusForbidden, "AccessDenied",
		"User: %s is not authorized to perform: iam:GetAccessKeyLastUsed on resource: access key %s", c.Caller.ARN, id)
}

func rootKeyIndex(a *fixture.Account, id string) int {
	return slices.IndexFunc(a.Root.AccessKeys, func(k fixture.AccessKey) bool { return k.ID == id })
}

func orNA(s string) string {
	if s == "" {
		return "N/A"
	}
	return s
}

type iamUserXML struct {
	Path             string  `xml:"Path,omitempty"`
	UserName         string  `xml:"UserName,omitempty"`
	UserID           string  `xml:"UserId"`
	Arn              string  `xml:"Arn"`
	CreateDate       string  `xml:"CreateDate"`
	PasswordLastUsed *string `xml:"PasswordLastUsed,omitempty"`
}

type getUserResult struct {
	XMLName xml.Name   `xml:"GetUserResult"`
	User    iamUserXML `xml:"User"`
}

func (s *Service) getUser(c *op.Call) (any, error) {
	subj, err := s.subject(c)
	if err != nil {
		return nil, err
	}
	a := s.account(c.Caller.AccountID)
	if subj.root {
		// The root user has neither a name nor a path; its id is the
		// account id.
		u := iamUserXML{UserID: a.ID, Arn: auth.RootUserARN(a.ID), CreateDate: isoTime(rootCreated(&a))}
		if a.Root.Password != nil {
			u.PasswordLastUsed = isoTimePtr(a.Root.Password.LastUsedAt)
		}
		return &getUserResult{User: u}, nil
	}
	return &getUserResult{User: iamUserXML{
		Path: "/", UserName: subj.user.Name, UserID: subj.user.ID, Arn: subj.user.ARN,
		CreateDate: isoTime(subj.user.Created),
	}}, nil
}

// rootCreated is when the root user (the account) was created.
func rootCreated(a *fixture.Account) time.Time {
	if !a.Root.CreatedAt.IsZero() {
		return a.Root.CreatedAt
	}
	return a.JoinedTimestamp
}

// virtualMFADevice is VirtualMFADevice as botocore's iam 2010-05-08
// service-2.json shapes it; the seed and QR code are left out, as AWS only
// returns them from CreateVirtualMFADevice.
type virtualMFADevice struct {
	SerialNumber string           `xml:"SerialNumber"`
	User         *virtualMFAOwner `xml:"User,omitempty"`
	EnableDate   string           `xml:"EnableDate,omitempty"`
}

// virtualMFAOwner is the User shape. For the root user AWS names it by its
// ARN, arn:aws:iam::ACCOUNT:root, which is what the CIS audit and Prowler
// match; the other members for the root user are not documented, and the
// simulator's choice of UserId (the account id) and no UserName is a guess
// orgscan does not read.
type virtualMFAOwner struct {
	Path       string `xml:"Path"`
	UserName   string `xml:"UserName,omitempty"`
	UserID     string `xml:"UserId"`
	Arn        string `xml:"Arn"`
	CreateDate string `xml:"CreateDate"`
}

type listVirtualMFADevicesResult struct {
	XMLName           xml.Name                     `xml:"ListVirtualMFADevicesResult"`
	VirtualMFADevices memberList[virtualMFADevice] `xml:"VirtualMFADevices"`
	IsTruncated       bool                         `xml:"IsTruncated"`
	Marker            string                       `xml:"Marker,omitempty"`
}

// listVirtualMFADevices lists the account's virtual MFA devices; the
// simulator models only the root user's, assigned when its MFA is virtual.
// AssignmentStatus is Assigned, Unassigned or Any (the default), per the
// API reference (ListVirtualMFADevices). Explicit denies of the caller
// apply, worded as IAM words them (403 AccessDenied).
func (s *Service) listVirtualMFADevices(c *op.Call) (any, error) {
	if auth.Denied(c.Caller, "iam:ListVirtualMFADevices", "*") {
		return nil, wire.Errorf(http.StatusForbidden, "AccessDenied",
			"User: %s is not authorized to perform: iam:ListVirtualMFADevices on resource: * with an explicit deny in an identity-based policy",
			c.Caller.ARN)
	}
	status := c.Form.Get("AssignmentStatus")
	switch status {
	case "", "Any", "Assigned", "Unassigned":
	default:
		return nil, wire.Errorf(http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value '%s' at 'assignmentStatus' failed to satisfy constraint: Member must satisfy enum value set: [Assigned, Unassigned, Any]", status)
	}
	var devices []virtualMFADevice
	a := s.account(c.Caller.AccountID)
	if a.Root.MFA == "virtual" && status != "Unassigned" {
		enabled := a.Root.CreatedAt
		if a.Root.MFAEnabledAt != nil {
			enabled = *a.Root.MFAEnabledAt
		}
		devices = append(devices, virtualMFADevice{
			SerialNumber: RootMFASerial(a.ID, a.Root.MFA),
			User: &virtualMFAOwner{
				Path: "/", UserID: a.ID, Arn: auth.RootUserARN(a.ID), CreateDate: isoTime(rootCreated(&a)),
			},
			EnableDate: isoTime(enabled),
		})
	}
	start, end, marker, err := page(c, len(devices))
	if err != nil {
		return nil, err
	}
	res := &listVirtualMFADevicesResult{IsTruncated: marker != "", Marker: marker}
	res.VirtualMFADevices.Members = devices[start:end]
	return res, nil
}
