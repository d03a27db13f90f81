// Package awssim is a loopback AWS that speaks the real wire protocols of
// the five services orgscan uses, so that tests, the demo and the
// benchmarks drive the real aws-sdk-go-v2 clients (and the AWS CLI) over
// real HTTP, with real SigV4 signatures, paging, throttling and error shapes.
//
// # The model
//
// One endpoint serves every service. A request is routed by the service in
// its SigV4 credential scope, then by X-Amz-Target (Organizations, JSON
// 1.1), by the Action form field (STS and IAM, query protocol with XML
// answers) or by the path (S3; Account Management, REST-JSON, signing name
// account, POST /getAlternateContact). Signatures are verified against each access
// key's secret; an unknown key, a wrong signature and an expired session get
// the code and status AWS uses for that protocol.
//
// The world is one organization: its root, nested OUs, and accounts with a
// State (and the legacy Status derived from it), tags, alternate contacts,
// a root user (access
// keys, signing certificates, MFA, password), IAM summary counts, and the
// roles that exist with whom they trust and the external id they require.
// Long-lived IAM user keys (typically an administrator in the management
// account) are where clients start from:
//
//   - Organizations: DescribeOrganization (any member), ListRoots,
//     ListOrganizationalUnitsForParent, ListAccountsForParent, ListAccounts,
//     DescribeAccount, ListParents, ListTagsForResource (management account
//     and the delegated administrators of any service only). MaxResults is
//     1..20 and pages are chained with opaque NextTokens. A caller outside
//     the organization gets AWSOrganizationsNotInUseException, any other
//     member AccessDeniedException. ListTagsForResource answers an
//     account's, an OU's or the root's own tags (an OU's are not an
//     account's), 20 to a page, a size AWS does not document; a
//     well-formed policy id is never found (TargetNotFoundException), a
//     malformed id is InvalidInputException.
//   - Account Management: GetAlternateContact (SECURITY, BILLING or
//     OPERATIONS; ResourceNotFoundException when the account has none).
//     Without AccountId it reads the caller's own account; with it, only
//     the management account and Account Management's delegated
//     administrator may name a member account, and only when trusted access
//     for account.amazonaws.com is enabled; every other case is
//     AccessDeniedException, as is a root session.
//   - STS: GetCallerIdentity; AssumeRole, whose credentials act in the
//     role's account until they expire; AssumeRoot, which opens a root
//     session of at most 900 seconds in a member account, scoped by an AWS
//     managed task policy under arn:aws:iam::aws:policy/root-task/, for the
//     management account or IAM's delegated administrator, when the
//     organization's centralized root access features allow that task.
//   - IAM: GetAccountSummary (the root-user flags computed from the root
//     user as it stands), ListOrganizationsFeatures, GenerateCredentialReport
//     and GetCredentialReport; in an AssumeRoot session with
//     IAMAuditRootUserCredentials, the read calls about the root user
//     (ListAccessKeys, ListSigningCertificates, ListMFADevices,
//     GetLoginProfile, GetAccessKeyLastUsed, GetUser); with
//     IAMDeleteRootUserCredentials, the same reads but GetAccountSummary,
//     and DeleteAccessKey, DeleteSigningCertificate, DeleteLoginProfile and
//     DeactivateMFADevice on the root user (NoSuchEntity, 404, for one
//     already gone). In a root session every other action is denied as the
//     task policy denies it. The deletions are real: GetAccountSummary, the
//     credential report and later sessions see them, and Server.RootUser
//     tells what is left.
//   - S3 (path or virtual-host style): PutObject, GetObject, HeadObject,
//     ListObjectsV2 on the fixture's buckets.
//
// Each request passes, in order: authentication, latency (base plus
// jitter), injected faults (5xx answers and dropped connections, by
// probability and per service), then the token-bucket quotas (STS,
// Organizations and Account Management per calling account, IAM per target
// account, each with AWS's throttling code). Organizations has one bucket
// for all its operations, as the caller's account-wide quota: reading the
// tags of N accounts costs N ListTagsForResource calls (one more for every
// further 20 tags of an account) from the same budget as discovery's
// ListAccountsForParent pages, so at OrgsRate r a scan with tags spends at
// least (discovery calls + N) / r seconds in Organizations.
//
// Counters per operation are read with Server.Stats or GET /_awssim/stats;
// their Mutations count every authenticated request for an IAM action that
// changes state, whatever its answer, so a test can prove that a dry run
// asked for no change. Everything random is seeded by Options.Seed;
// Options.Now is the clock of credential expiry.
//
// # Packages
//
// This package is the server that ties the simulator together, and the one
// import its users need: Start, New, Options, Server, and the fixture types
// and functions under their old names (aliases of package fixture). The
// parts live beside it, each with one responsibility, and import only
// downwards:
//
//	fixture            the JSON world format, its validation, Generate
//	wire               APIError and the protocols' answer and error shapes
//	rng                the one seeded source of randomness (Options.Seed)
//	auth               SigV4, principals and issued sessions, Deny statements
//	world              the organization as loaded: read-only, no lock
//	op                 Call (an authenticated request) and Func (an operation)
//	stats              counters per operation, mutating calls among them
//	quota              token buckets and each service's throttling answer
//	faults             latency, 5xx and dropped connections, per-account faults
//	service/organizations, service/sts, service/iam, service/s3,
//	service/account    one package per service, each owning the state its
//	                   operations change (IAM its credential reports and the
//	                   root users' credentials, a copy of the fixture's made
//	                   on an account's first change, under IAM's own lock;
//	                   S3 its buckets and objects; issued sessions are auth's)
//
// In layers, each importing only from the layers above it:
//
//	fixture, wire, rng, stats      (the standard library only)
//	auth, world, quota             (auth: fixture, wire, rng; world: fixture)
//	op                             (auth, wire)
//	faults, the five services      (op, auth, world, fixture, wire, rng)
//	awssim                         (all of them)
//
// A service never imports another service or the server, so a service's
// operations are read in one package; and the fixture types are only ever
// the description of a world, never its live state. The tests
// that drive the assembled simulator over HTTP (the SDK and the AWS CLI
// conformance tests) live here; unit tests of a part live with it.
//
// # Fixtures
//
// A fixture is JSON (see Fixture and its field tags); LoadFixture rejects
// unknown fields and inconsistent worlds. A minimal one:
//
//	{
//	  "organization": {
//	    "id": "o-abcdefghij",
//	    "root_id": "r-ab12",
//	    "management_account_id": "111111111111",
//	    "ous": [{"id": "ou-ab12-aaaaaaaa", "name": "Workloads", "parent": "r-ab12"}],
//	    "delegated_administrators": [],
//	    "trusted_access": ["account.amazonaws.com"],
//	    "features": {"iam_trusted_access": true, "root_credentials_management": true, "root_sessions": true}
//	  },
//	  "accounts": [
//	    {"id": "111111111111", "name": "management", "email": "mgmt@example.com",
//	     "state": "ACTIVE", "joined_method": "CREATED", "joined_timestamp": "2020-01-02T03:04:05Z",
//	     "parent": "r-ab12",
//	     "root": {"mfa": "hardware", "password": {"created_at": "2020-01-02T03:04:05Z"},
//	              "created_at": "2020-01-02T03:04:05Z"}},
//	    {"id": "222222222222", "name": "prod", "email": "prod@example.com",
//	     "state": "ACTIVE", "joined_method": "INVITED", "joined_timestamp": "2021-05-06T07:08:09Z",
//	     "parent": "ou-ab12-aaaaaaaa", "tags": {"env": "prod", "owner": "payments@example.com"},
//	     "alternate_contacts": {"security": {"name": "Sam Lee", "email": "sec@example.com",
//	                                         "title": "Security Lead", "phone": "+1-555-0100"}},
//	     "root": {"access_keys": [{"id": "AKIAROOTKEY222222222", "status": "Active",
//	                               "created_at": "2021-05-06T07:08:09Z",
//	                               "last_used_at": "2026-01-02T00:00:00Z",
//	                               "last_used_service": "s3", "last_used_region": "us-east-1"}],
//	              "created_at": "2021-05-06T07:08:09Z"},
//	     "summary": {"Users": 3, "Roles": 12},
//	     "roles": [{"name": "OrganizationAccountAccessRole", "trusted_accounts": ["111111111111"],
//	                "external_id": "", "max_session_duration": 3600}],
//	     "faults": {"hang": false}}
//	  ],
//	  "credentials": [{"access_key_id": "AKIAMGMTTESTKEY00001",
//	                   "secret_access_key": "mgmtsecretmgmtsecretmgmtsecretmgmtsecre",
//	                   "account_id": "111111111111", "user_name": "admin"}],
//	  "buckets": [{"name": "orgscan-reports", "owner_account_id": "111111111111"}]
//	}
//
// delegated_administrators lists IAM's delegated administrators, as it
// always has; delegated_administrators_by_service maps service principals
// (iam.amazonaws.com, securityhub.amazonaws.com...) to theirs: every one may
// read Organizations, only IAM's may call ListOrganizationsFeatures and
// AssumeRoot. feature_set CONSOLIDATED_BILLING is an organization without all
// features (no trusted access, so no centralized root access).
// trusted_access lists the service principals with trusted access
// (account.amazonaws.com for Account Management; IAM's is also
// iam_trusted_access), and delegated_administrators_by_service holds
// Account Management's one delegated administrator under
// account.amazonaws.com. Tags are a map on an account, on an OU (ous[].tags)
// and on the root (root_tags); alternate_contacts has security, billing and
// operations, each with name, email, title and phone. An account's
// sts_inactive_regions make AssumeRole and AssumeRoot into it, signed for one
// of those regions, answer RegionDisabledException.
//
// State is ACTIVE, SUSPENDED, PENDING_CLOSURE, CLOSED or PENDING_ACTIVATION;
// omit_state answers with the legacy Status only. An account without a role
// entry models a missing OrganizationAccountAccessRole; a role whose
// trusted_accounts leave the caller out models a trust that denies it;
// faults.hang makes every STS assume into the account and every IAM call in
// it block until the client gives up; faults.deny_credential_report models
// a service control policy on the credential report, and
// faults.credential_report_without_root a report lacking the root row (an
// emulator's defect, never AWS's). A credential's "deny" list holds
// explicit Deny statements ({"actions": ["organizations:ListAccountsForParent"],
// "resources": ["arn:aws:organizations::111111111111:ou/o-abcdefghij/ou-ab12-aaaaaaaa"]},
// * as a wildcard), as a guardrail that allows reading some OUs and not
// others would state them; organizations:ListTagsForResource on an
// account's ARN hides that account's tags, and account:GetAlternateContact
// on arn:aws:account::MANAGEMENT:account/o-ID/MEMBER its contacts. A bucket's optional "region" (default
// us-east-1) is where it lives: a request signed for another region is
// redirected as S3 redirects it. examples/demo-world.json is a
// realistic fixture, and Generate builds large seeded ones (10,000 accounts
// in a few milliseconds) from GenerateOptions, with owner tags and security
// contacts when AccountTags and SecurityContacts ask for them.
//
// # Running awssim by hand
//
//	go run ./cmd/awssim --listen 127.0.0.1:4566 --fixture examples/demo-world.json
//	go run ./cmd/awssim --accounts 10000 --ou-depth 3 --ou-width 4 --root-keys 0.05 \
//	    --latency 40ms --jitter 10ms --sts-rate 600 --orgs-rate 50 --iam-rate 20
//
// awssim prints export lines for AWS_ENDPOINT_URL, the management account's
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION (and
// AWS_DEFAULT_REGION, which AWS CLI v1 reads instead). Paste them
// into another shell and use the AWS CLI or orgscan as against AWS:
//
//	aws organizations list-accounts
//	aws sts assume-root --target-principal 222222222222 \
//	    --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials
//	aws sts assume-root --target-principal 222222222222 \
//	    --task-policy-arn arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials
//	# with that session's credentials exported:
//	aws iam delete-access-key --access-key-id AKIAROOTKEY222222222
//	# back with the administrator's keys:
//	aws organizations list-tags-for-resource --resource-id 222222222222
//	aws account get-alternate-contact --alternate-contact-type SECURITY --account-id 222222222222
//	curl -s $AWS_ENDPOINT_URL/_awssim/stats
//
// It listens on loopback addresses only (it hands out credentials) and
// stops on SIGINT or SIGTERM.
package awssim
