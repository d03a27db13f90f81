package assume

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

// Method names, as rows report them.
const (
	MethodAssumeRole = "assume-role"
	MethodAssumeRoot = "assume-root"
)

// Task policies: the AWS managed policies under
// arn:PARTITION:iam::aws:policy/root-task/ that scope a root session
// (sts:AssumeRoot, TaskPolicyArn). The audit policy reads the root user's
// credentials; the delete policy also deletes its password, access keys,
// signing certificates and MFA devices.
const (
	TaskAuditRootUserCredentials  = "IAMAuditRootUserCredentials"
	TaskDeleteRootUserCredentials = "IAMDeleteRootUserCredentials"
)

// rootTaskPolicyPath is where AWS keeps the task policies.
const rootTaskPolicyPath = "policy/root-task/"

// MaxRootSessionDuration is AWS's ceiling for sts:AssumeRoot sessions.
const MaxRootSessionDuration = 900 * time.Second

// credentialsExpiryWindow renews a session this long before it expires, so
// that no request is signed with credentials about to lapse.
const credentialsExpiryWindow = time.Minute

// AssumeError is a failure to get into an account.
type AssumeError struct {
	AccountID string
	Method    string
	Target    string // the role ARN, or the task policy for root sessions
	Err       error
}

func (e *AssumeError) Error() string {
	if e.Method == MethodAssumeRoot {
		return fmt.Sprintf("assume root in %s with %s: %v", e.AccountID, e.Target, e.Err)
	}
	return fmt.Sprintf("assume role %s in %s: %v", e.Target, e.AccountID, e.Err)
}

func (e *AssumeError) Unwrap() error { return e.Err }

// RoleAssumer is the STS call the role method needs.
type RoleAssumer interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// RootAssumer is the STS call the root method needs.
type RootAssumer interface {
	AssumeRoot(ctx context.Context, in *sts.AssumeRootInput, optFns ...func(*sts.Options)) (*sts.AssumeRootOutput, error)
}

// RoleOptions configure sts:AssumeRole.
type RoleOptions struct {
	// Template is a role ARN with {partition} and {account_id}.
	Template    string
	Partition   string
	ExternalID  string
	SessionName string
	Duration    time.Duration
	// Now is the clock sessions expire by; time.Now when nil.
	Now func() time.Time
}

// RoleMethod assumes an audit role in each account.
type RoleMethod struct {
	api RoleAssumer
	o   RoleOptions
}

// NewRoleMethod returns a method that assumes the templated role.
func NewRoleMethod(api RoleAssumer, o RoleOptions) *RoleMethod {
	return &RoleMethod{api: api, o: o}
}

// Name is the access method the rows report.
func (m *RoleMethod) Name() string { return MethodAssumeRole }

// roleARN is the role this method assumes in an account.
func (m *RoleMethod) roleARN(accountID string) string {
	return expandTemplate(m.o.Template, m.o.Partition, accountID)
}

// Credentials returns a self-renewing session provider for the account.
func (m *RoleMethod) Credentials(accountID string) aws.CredentialsProvider {
	return newSession(m.o.Now, func(ctx context.Context) (aws.Credentials, error) {
		roleARN := m.roleARN(accountID)
		in := &sts.AssumeRoleInput{
			RoleArn:         aws.String(roleARN),
			RoleSessionName: aws.String(m.o.SessionName),
		}
		if m.o.Duration > 0 {
			in.DurationSeconds = aws.Int32(int32(m.o.Duration / time.Second))
		}
		if m.o.ExternalID != "" {
			in.ExternalId = aws.String(m.o.ExternalID)
		}
		out, err := m.api.AssumeRole(ctx, in)
		if err != nil {
			return aws.Credentials{}, &AssumeError{AccountID: accountID, Method: MethodAssumeRole, Target: roleARN, Err: err}
		}
		return toCredentials(out.Credentials, "AssumeRole")
	})
}

// RootOptions configure sts:AssumeRoot.
type RootOptions struct {
	Partition string
	// TaskPolicy is the task policy's name (TaskAuditRootUserCredentials
	// when empty): a scan only reads, and a session that cannot delete is
	// the one to hold while reading.
	TaskPolicy string
	Duration   time.Duration // at most 900 s
	// Now is the clock sessions expire by; time.Now when nil.
	Now func() time.Time
}

// RootMethod opens a root session, scoped by a task policy (auditing root
// credentials unless told otherwise), in each member account (centralized
// root access).
type RootMethod struct {
	api RootAssumer
	o   RootOptions
}

// NewRootMethod returns a method that calls sts:AssumeRoot.
func NewRootMethod(api RootAssumer, o RootOptions) *RootMethod {
	if o.Duration <= 0 || o.Duration > MaxRootSessionDuration {
		o.Duration = MaxRootSessionDuration
	}
	if o.TaskPolicy == "" {
		o.TaskPolicy = TaskAuditRootUserCredentials
	}
	return &RootMethod{api: api, o: o}
}

// Name is the access method the rows report.
func (m *RootMethod) Name() string { return MethodAssumeRoot }

// taskPolicyARN is the task policy every root session is scoped by.
func (m *RootMethod) taskPolicyARN() string {
	return fmt.Sprintf("arn:%s:iam::aws:%s%s", m.o.Partition, rootTaskPolicyPath, m.o.TaskPolicy)
}

// Credentials returns a cached, self-renewing root session provider.
func (m *RootMethod) Credentials(accountID string) aws.CredentialsProvider {
	return newSession(m.o.Now, func(ctx context.Context) (aws.Credentials, error) {
		policy := m.taskPolicyARN()
		out, err := m.api.AssumeRoot(ctx, &sts.AssumeRootInput{
			TargetPrincipal: aws.String(accountID),
			TaskPolicyArn:   &ststypes.PolicyDescriptorType{Arn: aws.String(policy)},
			DurationSeconds: aws.Int32(int32(m.o.Duration / time.Second)),
		})
		if err != nil {
			return aws.Credentials{}, &AssumeError{AccountID: accountID, Method: MethodAssumeRoot, Target: policy, Err: err}
		}
		return toCredentials(out.Credentials, "AssumeRoot")
	})
}

func toCredentials(c *ststypes.Credentials, source string) (aws.Credentials, error) {
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil {
		return aws.Credentials{}, fmt.Errorf("%s returned no credentials", source)
	}
	creds := aws.Credentials{
		AccessKeyID:     aws.ToString(c.AccessKeyId),
		SecretAccessKey: aws.ToString(c.SecretAccessKey),
		SessionToken:    aws.ToString(c.SessionToken),
		Source:          "orgscan" + source,
	}
	if c.Expiration != nil {
		creds.CanExpire = true
		creds.Expires = *c.Expiration
	}
	return creds, nil
}

// expandTemplate fills a role ARN template.
func expandTemplate(template, partition, accountID string) string {
	return strings.NewReplacer("{partition}", partition, "{account_id}", accountID).Replace(template)
}

// RoleNameTemplate is the role ARN template for a role without a path.
func RoleNameTemplate(roleName string) string {
	return "arn:{partition}:iam::{account_id}:role/" + roleName
}

var (
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathPattern    = regexp.MustCompile(`^(/[\x21-\x7E]*)?/$`)
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
)

// ValidateRoleName checks an IAM role name.
func ValidateRoleName(name string) error {
	if !roleNamePattern.MatchString(name) {
		return fmt.Errorf("role name %q is not a valid IAM role name: use 1-64 letters, digits or +=,.@_- (a role with a path needs a role ARN template)", name)
	}
	return nil
}

// ValidateRoleTemplate checks that a template expands to a role ARN for
// every account.
func ValidateRoleTemplate(template string) error {
	if !strings.Contains(template, "{account_id}") {
		return fmt.Errorf("role ARN template %q lacks {account_id}: use e.g. arn:{partition}:iam::{account_id}:role/Audit", template)
	}
	arn := expandTemplate(template, "aws", "123456789012")
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || parts[4] != "123456789012" || !strings.HasPrefix(parts[5], "role/") {
		return fmt.Errorf("role ARN template %q does not expand to arn:PARTITION:iam::ACCOUNT:role/NAME: put {account_id} in the account field", template)
	}
	resource := strings.TrimPrefix(parts[5], "role")
	i := strings.LastIndexByte(resource, '/')
	path, name := resource[:i+1], resource[i+1:]
	if !rolePathPattern.MatchString(path) {
		return fmt.Errorf("role ARN template %q has an invalid path %q", template, path)
	}
	if err := ValidateRoleName(name); err != nil {
		return fmt.Errorf("role ARN template %q: %w", template, err)
	}
	return nil
}

// ValidateExternalID checks an sts:ExternalId value.
func ValidateExternalID(id string) error {
	if len(id) < 2 || len(id) > 1224 || !externalIDPattern.MatchString(id) {
		return fmt.Errorf("external id of %d characters is not valid: use 2-1224 letters, digits or +=,.@:/_-", len(id))
	}
	return nil
}

// ValidateSessionName checks a role session name.
func ValidateSessionName(name string) error {
	if !sessionNamePattern.MatchString(name) {
		return fmt.Errorf("session name %q is not valid: use 2-64 letters, digits or +=,.@_-", name)
	}
	return nil
}

// SessionName builds the default session name: it says orgscan did it and
// who ran it, which CloudTrail shows to the account owners.
func SessionName(c Caller) string {
	var b strings.Builder
	b.WriteString("orgscan-")
	for _, r := range c.name() {
		if r < 128 && (r == '_' || r == '+' || r == '=' || r == ',' || r == '.' || r == '@' || r == '-' ||
			'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			b.WriteRune(r)
		}
	}
	name := b.String()
	return name[:min(len(name), 64)]
}
