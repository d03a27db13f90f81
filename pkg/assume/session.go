package assume

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// session is one account's credentials: fetched on first use, reused until
// a minute before they expire, then fetched again.
//
// It replaces aws.CredentialsCache, which runs each retrieval in a goroutine
// of its own (singleflight) detached from the caller's context. Per account
// that is a goroutine whose stack grows through the whole STS call, two
// hand-offs between threads, and an assume that an account timeout cannot
// cancel. An account is scanned by one goroutine at a time, so fetching in
// the caller, under a lock that a cancelled caller can give up waiting for,
// is all the sharing there is.
type session struct {
	fetch func(context.Context) (aws.Credentials, error)
	now   func() time.Time
	lock  chan struct{} // held while reading or fetching creds
	creds *aws.Credentials
}

func newSession(now func() time.Time, fetch func(context.Context) (aws.Credentials, error)) *session {
	if now == nil {
		now = time.Now
	}
	return &session{fetch: fetch, now: now, lock: make(chan struct{}, 1)}
}

// Retrieve returns the session's credentials, fetching them when there are
// none or they are within credentialsExpiryWindow of expiring.
func (s *session) Retrieve(ctx context.Context) (aws.Credentials, error) {
	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return aws.Credentials{}, ctx.Err()
	}
	defer func() { <-s.lock }()
	if c := s.creds; c != nil && (!c.CanExpire || s.now().Add(credentialsExpiryWindow).Before(c.Expires)) {
		return *c, nil
	}
	c, err := s.fetch(ctx)
	if err != nil {
		return aws.Credentials{}, err
	}
	s.creds = &c
	return c, nil
}

// Invalidate drops the credentials, for when the service says they expired
// although the local clock did not think so.
func (s *session) Invalidate() {
	s.lock <- struct{}{}
	s.creds = nil
	<-s.lock
}
