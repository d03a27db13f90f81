package awssim

import (
	"errors"
	"fmt"
	"math/rand"
	"strconv"
	"time"
)

// Well-known values of generated organizations. The administrator key is
// fixed so that a benchmark or a person can talk to a generated awssim
// without reading its output; it only ever works against the simulator.
const (
	DefaultAccessKeyID         = "AKIAAWSSIMADMIN00001"
	DefaultSecretAccessKey     = "awssim/admin/secret/key/0000000000000000"
	DefaultManagementAccountID = "100000000000"
	DefaultAdminUserName       = "orgscan-admin"
	DefaultRoleName            = "OrganizationAccountAccessRole"
	DefaultReportBucket        = "orgscan-reports"
)

// GenerateOptions describe a generated organization. Fractions are of the
// member accounts (the management account is modelled as well kept: MFA,
// no keys) and are applied as exact counts, so a test can assert them.
type GenerateOptions struct {
	Seed int64
	// Accounts is the number of accounts including the management account
	// (at least 1).
	Accounts int
	// OUDepth levels of OUs under the root, each OU with OUWidth children;
	// 0 puts every account directly under the root.
	OUDepth, OUWidth int

	RootKeys    float64 // members with at least one root access key
	RootCerts   float64 // members with a root signing certificate
	NoMFA       float64 // members whose root user has no MFA
	Passwords   float64 // members whose root user has a console password
	MissingRole float64 // members without the cross-account role (joined by invitation)
	Inactive    float64 // members that are SUSPENDED, CLOSED or PENDING_ACTIVATION
	Hang        float64 // members whose STS and IAM requests hang

	// RoleName is the cross-account role (default OrganizationAccountAccessRole).
	RoleName string
	// NoCentralRootAccess turns off the organization's centralized root
	// access features (on by default, as in the demo world).
	NoCentralRootAccess bool
	// DelegatedAdministrator makes the first member account an IAM and
	// Organizations delegated administrator.
	DelegatedAdministrator bool
}

// maxGeneratedOUs bounds OUWidth^OUDepth so that a typo cannot ask for
// billions of OUs.
const maxGeneratedOUs = 100_000

// Validate reports options that Generate cannot honour.
func (o GenerateOptions) Validate() error {
	if o.Accounts < 1 {
		return fmt.Errorf("accounts %d: want at least 1 (the management account)", o.Accounts)
	}
	if o.Accounts > 1_000_000 {
		return fmt.Errorf("accounts %d: at most 1000000 are supported", o.Accounts)
	}
	if o.OUDepth < 0 || o.OUWidth < 0 {
		return fmt.Errorf("ou depth %d and width %d must not be negative", o.OUDepth, o.OUWidth)
	}
	if o.OUDepth > 0 && o.OUWidth < 1 {
		return fmt.Errorf("ou width %d: want at least 1 when ou depth is %d", o.OUWidth, o.OUDepth)
	}
	if n := ouCount(o.OUDepth, o.OUWidth); n > maxGeneratedOUs {
		return fmt.Errorf("ou depth %d and width %d make more than %d OUs", o.OUDepth, o.OUWidth, maxGeneratedOUs)
	}
	fractions := []struct {
		name string
		v    float64
	}{
		{"root keys", o.RootKeys}, {"root certificates", o.RootCerts}, {"no mfa", o.NoMFA},
		{"passwords", o.Passwords}, {"missing role", o.MissingRole}, {"inactive", o.Inactive}, {"hang", o.Hang},
	}
	for _, f := range fractions {
		if !(f.v >= 0 && f.v <= 1) {
			return fmt.Errorf("%s fraction %v: want a value between 0 and 1", f.name, f.v)
		}
	}
	return nil
}

// ouCount is width + width^2 + ... + width^depth, saturating past the cap.
func ouCount(depth, width int) int {
	total, level := 0, 1
	for range depth {
		level *= width
		total += level
		if total > maxGeneratedOUs {
			return total
		}
	}
	return total
}

// Generate builds a seeded organization: the same options give the same
// fixture. Invalid options (see Validate) are clamped into range; callers
// that take options from a person should Validate first.
func Generate(o GenerateOptions) *Fixture {
	o = clampOptions(o)
	rng := rand.New(rand.NewSource(o.Seed))
	const lower = "abcdefghijklmnopqrstuvwxyz0123456789"
	randomID := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = lower[rng.Intn(len(lower))]
		}
		return string(b)
	}
	roleName := o.RoleName
	if roleName == "" {
		roleName = DefaultRoleName
	}
	rootSuffix := randomID(4)
	fx := &Fixture{
		Organization: Organization{
			ID:                  "o-" + randomID(10),
			RootID:              "r-" + rootSuffix,
			ManagementAccountID: DefaultManagementAccountID,
			Features: Features{
				IAMTrustedAccess:          !o.NoCentralRootAccess,
				RootCredentialsManagement: !o.NoCentralRootAccess,
				RootSessions:              !o.NoCentralRootAccess,
			},
		},
		Credentials: []StaticCredential{{
			AccessKeyID: DefaultAccessKeyID, SecretAccessKey: DefaultSecretAccessKey,
			AccountID: DefaultManagementAccountID, UserName: DefaultAdminUserName,
		}},
		Buckets: []Bucket{{Name: DefaultReportBucket, OwnerID: DefaultManagementAccountID}},
	}

	// OUs breadth first, so that OU n's children are n*width+1.., and every
	// level is named after its position ("ou-2-1" is the first child of the
	// second top-level OU).
	ous := make([]OU, 0, ouCount(o.OUDepth, o.OUWidth))
	level := []OU{{ID: fx.Organization.RootID}}
	for d := range o.OUDepth {
		next := make([]OU, 0, len(level)*o.OUWidth)
		for _, parent := range level {
			for w := range o.OUWidth {
				name := fmt.Sprintf("ou-%d", w+1)
				if d > 0 {
					name = fmt.Sprintf("%s-%d", parent.Name, w+1)
				}
				// A random part for realism and a counter for uniqueness.
				id := fmt.Sprintf("ou-%s-%s%06s", rootSuffix, randomID(4), strconv.FormatInt(int64(len(ous)+len(next)), 36))
				next = append(next, OU{ID: id, Name: name, Parent: parent.ID})
			}
		}
		ous = append(ous, next...)
		level = next
	}
	fx.Organization.OUs = ous

	base := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	days := func(n int) time.Time { return base.Add(time.Duration(n) * 24 * time.Hour) }
	mgmtCreated := base
	fx.Accounts = make([]Account, o.Accounts)
	fx.Accounts[0] = Account{
		ID: DefaultManagementAccountID, Name: "management", Email: "aws-management@example.com",
		State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: mgmtCreated, Parent: fx.Organization.RootID,
		Root: RootUser{
			MFA: "hardware", MFAEnabledAt: ptrTime(days(1)), CreatedAt: mgmtCreated,
			Password: &Password{CreatedAt: mgmtCreated, LastUsedAt: ptrTime(days(1500))},
		},
		Summary: map[string]int32{"Users": 3, "Roles": 12, "Policies": 4, "Groups": 1},
	}

	members := o.Accounts - 1
	pick := func(frac float64) []bool {
		chosen := make([]bool, members)
		k := int(frac*float64(members) + 0.5)
		for _, i := range rng.Perm(members)[:k] {
			chosen[i] = true
		}
		return chosen
	}
	keys, certs, noMFA, passwords := pick(o.RootKeys), pick(o.RootCerts), pick(o.NoMFA), pick(o.Passwords)
	missing, inactive, hang := pick(o.MissingRole), pick(o.Inactive), pick(o.Hang)
	inactiveStates := []string{"SUSPENDED", "SUSPENDED", "CLOSED", "PENDING_ACTIVATION"}

	// Members go to the OUs round robin (or the root when there are none),
	// so that every OU of a large organization holds more than one page.
	parents := []string{fx.Organization.RootID}
	if len(ous) > 0 {
		parents = make([]string, len(ous))
		for i, ou := range ous {
			parents[i] = ou.ID
		}
	}
	for i := range members {
		id := fmt.Sprintf("%012d", 200000000000+i+1)
		joined := days(30 + rng.Intn(2000))
		a := Account{
			ID:              id,
			Name:            fmt.Sprintf("member-%05d", i+1),
			Email:           fmt.Sprintf("aws+member-%05d@example.com", i+1),
			State:           "ACTIVE",
			JoinedMethod:    "CREATED",
			JoinedTimestamp: joined,
			Parent:          parents[i%len(parents)],
			Root:            RootUser{CreatedAt: joined.Add(-time.Hour), MFA: "virtual", MFAEnabledAt: ptrTime(joined.Add(time.Hour))},
			Summary: map[string]int32{
				"Users": int32(rng.Intn(20)), "Roles": int32(5 + rng.Intn(40)),
				"Policies": int32(rng.Intn(15)), "Groups": int32(rng.Intn(5)),
			},
		}
		if rng.Intn(3) == 0 {
			a.Root.MFA = "hardware"
		}
		if noMFA[i] {
			a.Root.MFA, a.Root.MFAEnabledAt = "", nil
		}
		if keys[i] {
			a.Root.AccessKeys = generatedKeys(rng, id, joined)
		}
		if certs[i] {
			a.Root.SigningCertificates = []SigningCertificate{{
				ID: fmt.Sprintf("CERT%028d", 200000000000+i+1), Status: "Active", UploadedAt: joined.Add(72 * time.Hour),
			}}
		}
		if passwords[i] {
			a.Root.Password = &Password{CreatedAt: joined}
			if rng.Intn(2) == 0 {
				a.Root.Password.LastUsedAt = ptrTime(joined.Add(time.Duration(1+rng.Intn(500)) * 24 * time.Hour))
			}
		}
		if missing[i] {
			// Accounts that joined by invitation never got the role that
			// CreateAccount provisions.
			a.JoinedMethod = "INVITED"
		} else {
			a.Roles = []Role{{Name: roleName, TrustedAccounts: []string{DefaultManagementAccountID}}}
		}
		if inactive[i] {
			a.State = inactiveStates[rng.Intn(len(inactiveStates))]
		}
		a.Faults.Hang = hang[i]
		fx.Accounts[i+1] = a
	}
	if o.DelegatedAdministrator && members > 0 {
		fx.Organization.DelegatedAdministrators = []string{fx.Accounts[1].ID}
		fx.Credentials = append(fx.Credentials, StaticCredential{
			AccessKeyID: "AKIAAWSSIMDELEGATED1", SecretAccessKey: "awssim/delegated/secret/key/000000000000",
			AccountID: fx.Accounts[1].ID, UserName: "security-admin",
		})
	}
	return fx
}

// generatedKeys gives an account one or two root access keys, some used
// recently, some long idle, some inactive.
func generatedKeys(rng *rand.Rand, accountID string, joined time.Time) []AccessKey {
	n := 1 + rng.Intn(4)/3 // one in four accounts has two keys
	out := make([]AccessKey, 0, n)
	for k := range n {
		key := AccessKey{
			ID:        fmt.Sprintf("AKIA%s%04d", accountID[:12], k+1),
			Status:    "Active",
			CreatedAt: joined.Add(time.Duration(k+1) * 24 * time.Hour),
		}
		switch rng.Intn(3) {
		case 0: // never used
		case 1:
			key.LastUsedAt = ptrTime(joined.Add(time.Duration(100+rng.Intn(1500)) * 24 * time.Hour))
			key.LastUsedService, key.LastUsedRegion = "s3", "us-east-1"
		case 2:
			key.Status = "Inactive"
			key.LastUsedAt = ptrTime(joined.Add(time.Duration(10+rng.Intn(60)) * 24 * time.Hour))
			key.LastUsedService, key.LastUsedRegion = "ec2", "eu-west-1"
		}
		out = append(out, key)
	}
	return out
}

func clampOptions(o GenerateOptions) GenerateOptions {
	clamp := func(v float64) float64 {
		if !(v > 0) {
			return 0
		}
		return min(v, 1)
	}
	o.RootKeys, o.RootCerts, o.NoMFA = clamp(o.RootKeys), clamp(o.RootCerts), clamp(o.NoMFA)
	o.Passwords, o.MissingRole, o.Inactive, o.Hang = clamp(o.Passwords), clamp(o.MissingRole), clamp(o.Inactive), clamp(o.Hang)
	o.Accounts = min(max(o.Accounts, 1), 1_000_000)
	o.OUDepth, o.OUWidth = max(o.OUDepth, 0), max(o.OUWidth, 0)
	if o.OUWidth == 0 {
		o.OUDepth = 0
	}
	for o.OUDepth > 0 && ouCount(o.OUDepth, o.OUWidth) > maxGeneratedOUs {
		o.OUDepth--
	}
	return o
}

func ptrTime(t time.Time) *time.Time { return &t }

// errNoManagementCredential is returned when a fixture gives no way in.
var errNoManagementCredential = errors.New("the fixture has no credential in the management account")

// ManagementCredential returns the first long-lived credential of the
// management account, the one awssim prints for clients to start from.
func (fx *Fixture) ManagementCredential() (StaticCredential, error) {
	for _, c := range fx.Credentials {
		if c.AccountID == fx.Organization.ManagementAccountID {
			return c, nil
		}
	}
	return StaticCredential{}, errNoManagementCredential
}
