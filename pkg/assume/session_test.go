package assume

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestSessionFetchesOnlyWhenItMust(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		lifetime  time.Duration // of the credentials fetched; 0: they never expire
		elapsed   time.Duration // between the two retrievals
		invalid   bool          // Invalidate between them
		wantFetch int
	}{
		{"a fresh session is reused", 15 * time.Minute, time.Minute, false, 1},
		{"a session a minute from expiry is renewed", 15 * time.Minute, 14*time.Minute + time.Second, false, 2},
		{"an expired session is renewed", 15 * time.Minute, time.Hour, false, 2},
		{"credentials that cannot expire are kept", 0, 24 * time.Hour, false, 1},
		{"an invalidated session is renewed", 15 * time.Minute, 0, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := now
			fetches := 0
			s := newSession(func() time.Time { return clock }, func(context.Context) (aws.Credentials, error) {
				fetches++
				c := aws.Credentials{AccessKeyID: "ASIA" + string(rune('A'+fetches)), SecretAccessKey: "s"}
				if tt.lifetime > 0 {
					c.CanExpire, c.Expires = true, clock.Add(tt.lifetime)
				}
				return c, nil
			})
			ctx := context.Background()
			first, err := s.Retrieve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(tt.elapsed)
			if tt.invalid {
				s.Invalidate()
			}
			second, err := s.Retrieve(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if fetches != tt.wantFetch {
				t.Errorf("%d fetches, want %d", fetches, tt.wantFetch)
			}
			if renewed := first.AccessKeyID != second.AccessKeyID; renewed != (tt.wantFetch == 2) {
				t.Errorf("keys %s then %s: renewed %v, want %v", first.AccessKeyID, second.AccessKeyID, renewed, tt.wantFetch == 2)
			}
		})
	}
}

func TestSessionDoesNotKeepAFailure(t *testing.T) {
	fail := errors.New("AccessDenied")
	calls := 0
	s := newSession(nil, func(context.Context) (aws.Credentials, error) {
		calls++
		if calls == 1 {
			return aws.Credentials{}, fail
		}
		return aws.Credentials{AccessKeyID: "ASIAOK", SecretAccessKey: "s"}, nil
	})
	if _, err := s.Retrieve(context.Background()); !errors.Is(err, fail) {
		t.Fatalf("first Retrieve = %v, want the fetch's error", err)
	}
	if c, err := s.Retrieve(context.Background()); err != nil || c.AccessKeyID != "ASIAOK" {
		t.Fatalf("second Retrieve = %v, %v: want a new fetch", c.AccessKeyID, err)
	}
}

// The fetch runs in the caller and ends with the caller's context, so an
// account timeout cancels its assume call; a caller waiting for another's
// fetch can give up too.
func TestSessionFollowsTheCallersContext(t *testing.T) {
	started := make(chan struct{})
	s := newSession(nil, func(ctx context.Context) (aws.Credentials, error) {
		close(started)
		<-ctx.Done()
		return aws.Credentials{}, ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.Retrieve(ctx)
		done <- err
	}()
	<-started
	waiter, stop := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer stop()
	if _, err := s.Retrieve(waiter); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a waiter whose context ended got %v, want its deadline", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("the fetching caller got %v, want its cancellation", err)
	}
}
