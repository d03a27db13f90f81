// Package auth is who is calling and what they may do: SigV4 signatures,
// the principals behind the simulator's access keys (fixture users and the
// sessions STS issues), and the explicit Deny statements of a fixture
// credential.
package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"github.com/orgscan/orgscan/internal/awssim/wire"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Authorization is the parsed SigV4 Authorization header.
type Authorization struct {
	AccessKeyID   string
	date          string
	Region        string
	Service       string
	signedHeaders []string
	signature     string
}

// ParseAuthorization reads the SigV4 header; its absence or a malformed
// value is an error in the shape of the service the request seems to be for.
func ParseAuthorization(r *http.Request) (*Authorization, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, wire.Errorf(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(h, algo) {
		return nil, wire.Errorf(http.StatusBadRequest, "IncompleteSignature", "Unsupported authorization type; only AWS4-HMAC-SHA256 is simulated")
	}
	a := &Authorization{}
	for _, part := range strings.Split(h[len(algo):], ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			scope := strings.Split(v, "/")
			if len(scope) != 5 || scope[4] != "aws4_request" {
				return nil, wire.Errorf(http.StatusBadRequest, "IncompleteSignature", "Credential scope %q is malformed", v)
			}
			a.AccessKeyID, a.date, a.Region, a.Service = scope[0], scope[1], scope[2], scope[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.AccessKeyID == "" || a.signature == "" || len(a.signedHeaders) == 0 {
		return nil, wire.Errorf(http.StatusBadRequest, "IncompleteSignature", "Authorization header requires Credential, SignedHeaders and Signature")
	}
	return a, nil
}

// Authenticate finds the caller and verifies the signature and session.
func (st *Store) Authenticate(r *http.Request, body []byte, a *Authorization, now time.Time) (*Principal, error) {
	p, ok := st.Lookup(a.AccessKeyID)
	if !ok {
		return nil, authError(a.Service, "unknown-key")
	}
	if p.SessionToken != "" && r.Header.Get("X-Amz-Security-Token") != p.SessionToken {
		return nil, authError(a.Service, "unknown-key")
	}
	want := signature(r, body, a, p.SecretAccessKey)
	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		return nil, authError(a.Service, "bad-signature")
	}
	if !p.Expires.IsZero() && !now.Before(p.Expires) {
		return nil, authError(a.Service, "expired")
	}
	return p, nil
}

// authError renders an authentication failure with the code and status
// that the service's protocol uses for it.
func authError(service, kind string) *wire.APIError {
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
		// Account Management's model lists no authentication errors; these
		// are the JSON services' common codes, with the 403 of a REST
		// front end (a guess: a client must treat any of them as fatal).
		"account": {
			"unknown-key":   {http.StatusForbidden, "UnrecognizedClientException"},
			"bad-signature": {http.StatusForbidden, "InvalidSignatureException"},
			"expired":       {http.StatusForbidden, "ExpiredTokenException"},
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
	if service != "organizations" && service != "s3" && service != "account" {
		proto = "query"
	}
	sh := table[proto][kind]
	return &wire.APIError{Status: sh.status, Code: sh.code, Message: messages[kind]}
}

// signature computes the SigV4 signature the client should have sent,
// from the headers it says it signed.
func signature(r *http.Request, body []byte, a *Authorization, secret string) string {
	amzDate := r.Header.Get("X-Amz-Date")
	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	canonical := strings.Join([]string{
		r.Method,
		canonicalURI(r, a.Service),
		canonicalQuery(r.URL.RawQuery),
		canonicalHeaders(r, a.signedHeaders),
		strings.Join(a.signedHeaders, ";"),
		payloadHash,
	}, "\n")
	scope := strings.Join([]string{a.date, a.Region, a.Service, "aws4_request"}, "/")
	crHash := sha256.Sum256([]byte(canonical))
	toSign := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, scope, hex.EncodeToString(crHash[:])}, "\n")
	key := hmacSHA256([]byte("AWS4"+secret), a.date)
	key = hmacSHA256(key, a.Region)
	key = hmacSHA256(key, a.Service)
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
