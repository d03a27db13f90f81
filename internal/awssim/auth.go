package awssim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// principalKind tells what a set of credentials acts as.
type principalKind int

const (
	kindUser        principalKind = iota // long-lived IAM user key
	kindAssumedRole                      // sts:AssumeRole session
	kindRootSession                      // sts:AssumeRoot session
)

// principal is whoever holds an access key the simulator knows.
type principal struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string // empty for long-lived keys
	AccountID       string
	ARN             string
	UserID          string
	Kind            principalKind
	RoleName        string
	SessionName     string
	TaskPolicyARN   string // root sessions only
	Expires         time.Time
	Deny            []DenyStatement // long-lived users only
}

// world is the simulator's mutable state, guarded by Server.mu.
type world struct {
	org        Organization
	accounts   map[string]*Account
	order      []string            // account ids in fixture order
	ous        map[string]*OU      // by id
	childOUs   map[string][]string // parent id -> OU ids, fixture order
	childAccts map[string][]string // parent id -> account ids, fixture order
	principals map[string]*principal
	buckets    map[string]*bucket
	reports    map[string]*credentialReport // by account id
	// orgReaders are the delegated administrators of any service, who may
	// read Organizations; iamAdmins those of IAM, who may also use
	// centralized root access. Neither holds the management account.
	orgReaders map[string]bool
	iamAdmins  map[string]bool
}

// bucket is an S3 bucket and its objects.
type bucket struct {
	Name     string
	OwnerID  string
	Region   string // "" is us-east-1
	Created  time.Time
	Objects  map[string]*object   // current version by key
	Versions map[string][]*object // every version by key, oldest first
}

// object is a stored S3 object and what the simulator recorded of its upload.
type object struct {
	Key          string
	Body         []byte
	ETag         string
	VersionID    string
	LastModified time.Time
	Headers      http.Header // every request header of the PutObject
	SSE          string      // AES256, aws:kms or aws:kms:dsse
	KMSKeyID     string      // key ARN for SSE-KMS
	ChecksumAlg  string      // crc32, crc32c, crc64nvme, sha1 or sha256
	Checksum     string      // base64, as in x-amz-checksum-*
}

// credentialReport is one account's IAM credential report state.
type credentialReport struct {
	GeneratedAt time.Time // zero while none has been completed
	PollsLeft   int       // report calls left before a generation completes
	Generating  bool
}

func newWorld(fx *Fixture) *world {
	w := &world{
		org:        fx.Organization,
		accounts:   make(map[string]*Account, len(fx.Accounts)),
		ous:        make(map[string]*OU, len(fx.Organization.OUs)),
		childOUs:   map[string][]string{},
		childAccts: map[string][]string{},
		principals: map[string]*principal{},
		buckets:    map[string]*bucket{},
		reports:    map[string]*credentialReport{},
		orgReaders: map[string]bool{},
		iamAdmins:  map[string]bool{},
	}
	for _, id := range fx.Organization.allDelegatedAdministrators() {
		w.orgReaders[id] = true
	}
	for _, id := range fx.Organization.IAMDelegatedAdministrators() {
		w.iamAdmins[id] = true
	}
	for i := range fx.Organization.OUs {
		ou := fx.Organization.OUs[i]
		w.ous[ou.ID] = &ou
		w.childOUs[ou.Parent] = append(w.childOUs[ou.Parent], ou.ID)
	}
	for i := range fx.Accounts {
		a := fx.Accounts[i]
		w.accounts[a.ID] = &a
		w.order = append(w.order, a.ID)
		w.childAccts[a.Parent] = append(w.childAccts[a.Parent], a.ID)
	}
	for _, c := range fx.Credentials {
		w.principals[c.AccessKeyID] = &principal{
			AccessKeyID:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			AccountID:       c.AccountID,
			ARN:             fmt.Sprintf("arn:aws:iam::%s:user/%s", c.AccountID, c.UserName),
			UserID:          "AIDA" + strings.ToUpper(hex.EncodeToString([]byte(c.UserName + "0000000000"))[:17]),
			Kind:            kindUser,
			Deny:            c.Deny,
		}
	}
	for _, b := range fx.Buckets {
		w.buckets[b.Name] = &bucket{Name: b.Name, OwnerID: b.OwnerID, Region: b.Region, Objects: map[string]*object{}}
	}
	return w
}

// inOrganization tells whether an account belongs to the organization.
func (w *world) inOrganization(accountID string) bool {
	_, ok := w.accounts[accountID]
	return ok
}

// authorization is the parsed SigV4 Authorization header.
type authorization struct {
	accessKeyID   string
	date          string
	region        string
	service       string
	signedHeaders []string
	signature     string
}

// parseAuthorization reads the SigV4 header; its absence or a malformed
// value is an error in the shape of the service the request seems to be for.
func parseAuthorization(r *http.Request) (*authorization, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, algo) {
		return nil, errorf(http.StatusBadRequest, "IncompleteSignature", "Unsupported authorization type; only AWS4-HMAC-SHA256 is simulated")
	}
	a := &authorization{}
	for _, part := range strings.Split(h[len(algo):], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return nil, errorf(http.StatusBadRequest, "IncompleteSignature", "Credential scope %q is malformed", v)
			}
			a.accessKeyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.accessKeyID == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return nil, errorf(http.StatusBadRequest, "IncompleteSignature", "Authorization header requires Credential, SignedHeaders and Signature")
	}
	return a, nil
}

// authenticate finds the caller and verifies the signature and session.
func (s *Server) authenticate(r *http.Request, body []byte, a *authorization, now time.Time) (*principal, error) {
	s.mu.RLock()
	p, ok := s.world.principals[a.accessKeyID]
	s.mu.RUnlock()
	if !ok {
		return nil, authError(a.service, "unknown-key")
	}
	if p.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != p.SessionToken {
		return nil, authError(a.service, "unknown-key")
	}
	want := signature(r, body, a, p.SecretAccessKey)
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return nil, authError(a.service, "bad-signature")
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return nil, authError(a.service, "expired")
	}
	return p, nil
}

// authError renders an authentication failure with the code and status
// that the service's protocol uses for it.
func authError(service, kind string) *apiError {
	type shape struct {
		status int
		code   string
	}
	table := map[string]map[string]shape{
		"organizations": {
			"unknown-key":   {http.StatusBadRequest, "UnrecognizedClientException"},
			"bad-signature": {http.StatusBadRequest, "InvalidSignatureException"},
			"expired":       {http.StatusBadRequest, "ExpiredTokenException"},
		},
		"s3": {
			"unknown-key":   {http.StatusForbidden, "InvalidAccessKeyId"},
			"bad-signature": {http.StatusForbidden, "SignatureDoesNotMatch"},
			"expired":       {http.StatusBadRequest, "ExpiredToken"},
		},
		"query": {
			"unknown-key":   {http.StatusForbidden, "InvalidClientTokenId"},
			"bad-signature": {http.StatusForbidden, "SignatureDoesNotMatch"},
			"expired":       {http.StatusForbidden, "ExpiredToken"},
		},
	}
	messages := map[string]string{
		"unknown-key":   "The security token included in the request is invalid.",
		"bad-signature": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
		"expired":       "The security token included in the request is expired",
	}
	proto := service
	if service != "organizations" && service != "s3" {
		proto = "query"
	}
	sh := table[proto][kind]
	return &apiError{Status: sh.status, Code: sh.code, Message: messages[kind]}
}

// signature computes the SigV4 signature the client should have sent,
// from the headers it says it signed.
func signature(r *http.Request, body []byte, a *authorization, secret string) string {
	amzDate := r.Header.Get("X-Amz-Date")
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalURI(r, a.service),
		canonicalQuery(r.URL.RawQuery),
		canonicalHeaders(r, a.signedHeaders),
		strings.Join(a.signedHeaders, ";"),
		payloadHash,
	}, "\n")
	scope := strings.Join([]string{a.date, a.region, a.service, "aws4_request"}, "/")
	crHash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, scope, hex.EncodeToString(crHash[:])}, "\n")
	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	key = hmacSHA256(key, a.region)
	key = hmacSHA256(key, a.service)
	key = hmacSHA256(key, "aws4_request")
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// canonicalURI follows SigV4: S3 signs the path as sent; other services
// sign it URI-encoded once more.
func canonicalURI(r *http.Request, service string) string {
	p := r.URL.EscapedPath()
	if p == "" {
		p = "/"
	}
	if service == "s3" {
		return p
	}
	segments := strings.Split(p, "/")
	for i, seg := range segments {
		segments[i] = sigv4Escape(seg)
	}
	return strings.Join(segments, "/")
}

func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	values, err := url.ParseQuery(raw)
	if err != nil {
		return raw
	}
	var pairs []string
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, sigv4Escape(k)+"="+sigv4Escape(v))
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, "&")
}

func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		var values []string
		switch name {
		case "host":
			values = []string{r.Host}
		case "content-length":
			values = []string{fmt.Sprint(r.ContentLength)}
		default:
			values = r.Header.Values(name)
		}
		for i, v := range values {
			values[i] = strings.Join(strings.Fields(v), " ")
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(values, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// sigv4Escape is RFC 3986 percent-encoding of everything but unreserved
// characters, as SigV4 requires.
func sigv4Escape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// issue stores and returns new temporary credentials for p (whose
// AccessKeyID, SecretAccessKey and SessionToken are filled in here).
func (s *Server) issue(p principal) *principal {
	const upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	const secretChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	p.AccessKeyID = "ASIA" + s.randomString(16, upper)
	p.SecretAccessKey = s.randomString(40, secretChars)
	p.SessionToken = "IQoJb3JpZ2luX2VjE" + s.randomString(200, secretChars)
	s.mu.Lock()
	s.world.principals[p.AccessKeyID] = &p
	s.mu.Unlock()
	return &p
}
