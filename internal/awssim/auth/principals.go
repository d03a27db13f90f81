package auth

import (
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/fixture"
	"github.com/orgscan/orgscan/internal/awssim/rng"
)

// Kind tells what a set of credentials acts as.
type Kind int

const (
	User        Kind = iota // long-lived IAM user key
	AssumedRole             // sts:AssumeRole session
	RootSession             // sts:AssumeRoot session
)

// Principal is whoever holds an access key the simulator knows.
type Principal struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for long-lived keys
	AccountID       string
	ARN             string
	UserID          string
	Kind            Kind
	RoleName        string
	SessionName     string
	TaskPolicyARN   string // root sessions only
	Expires         time.Time
	Deny            []fixture.DenyStatement // long-lived users only
}

// Store holds every principal by access key: the fixture's long-lived
// users and the sessions STS has issued since.
type Store struct {
	rand       *rng.Rand
	mu         sync.RWMutex
	principals map[string]*Principal
}

// NewStore holds the fixture's credentials; sessions it issues take their
// keys from r.
func NewStore(creds []fixture.StaticCredential, r *rng.Rand) *Store {
	st := &Store{rand: r, principals: map[string]*Principal{}}
	for _, c := range creds {
		st.principals[c.AccessKeyID] = &Principal{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			AccountID:       c.AccountID,
			ARN:             fmt.Sprintf("arn:aws:iam::%s:user/%s", c.AccountID, c.UserName),
			UserID:          "AIDA" + strings.ToUpper(hex.EncodeToString([]byte(c.UserName + "0000000000"))[:17]),
			Kind:            User,
			Deny:            c.Deny,
		}
	}
	return st
}

// Lookup finds the principal of an access key.
func (st *Store) Lookup(accessKeyID string) (*Principal, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	p, ok := st.principals[accessKeyID]
	return p, ok
}

// Issue stores and returns new temporary credentials for p (whose
// AccessKeyID, SecretAccessKey and SessionToken are filled in here).
func (st *Store) Issue(p Principal) *Principal {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	p.AccessKeyID = "ASIA" + st.rand.String(16, upper)
	p.SecretAccessKey = st.rand.String(40, secretChars)
	p.SessionToken = "IQoJb3JpZ2luX2VjE" + st.rand.String(200, secretChars)
	st.mu.Lock()
	st.principals[p.AccessKeyID] = &p
	st.mu.Unlock()
	return &p
}

// RootTaskPolicyPrefix is where the AWS managed task policies live.
const RootTaskPolicyPrefix = "arn:aws:iam::aws:policy/root-task/"

// RootUserARN is the ARN of an account's root user.
func RootUserARN(accountID string) string { return "arn:aws:iam::" + accountID + ":root" }

// AccountOfPrincipal reads the account id from an AssumeRoot
// TargetPrincipal, which is an account id or an arn:aws:iam::ACCOUNT:root.
func AccountOfPrincipal(s string) string {
	if fixture.IsAccountID(s) {
		return s
	}
	parts := strings.Split(s, ":")
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" && fixture.IsAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}
