package awssim

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestThrottleHoldsTheConfiguredRate offers STS far more than its quota
// from one account and checks that what gets through is the bucket: its
// burst plus the rate times the time spent.
func TestThrottleHoldsTheConfiguredRate(t *testing.T) {
	const (
		rate     = 50.0
		burst    = 50
		duration = 1500 * time.Millisecond
		workers  = 8
	)
	srv := startServer(t, Options{STSRate: rate})
	client := sts.NewFromConfig(mgmtConfig(srv))
	ctx := context.Background()

	var accepted, throttled, other atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	stop := start.Add(duration)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				var ae smithy.APIError
				switch {
				case err == nil:
					accepted.Add(1)
				case errors.As(err, &ae) && ae.ErrorCode() == "Throttling":
					throttled.Add(1)
				default:
					other.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	want := burst + rate*elapsed.Seconds()
	got := float64(accepted.Load())
	t.Logf("offered %d requests in %v: %d accepted (model %.0f), %d throttled",
		accepted.Load()+throttled.Load(), elapsed.Round(time.Millisecond), accepted.Load(), want, throttled.Load())
	if other.Load() != 0 {
		t.Fatalf("%d requests failed with something other than throttling", other.Load())
	}
	if throttled.Load() < int64(want) {
		t.Fatalf("only %d requests were throttled; the offered load did not exceed the quota enough to test it", throttled.Load())
	}
	if math.Abs(got-want) > 0.15*want {
		t.Fatalf("accepted %.0f requests, want %.0f ± 15%%", got, want)
	}
	st := srv.Stats().Operations["sts:GetCallerIdentity"]
	if st.Throttled != throttled.Load() || st.Requests != accepted.Load()+throttled.Load() {
		t.Fatalf("server stats %+v disagree with the client's %d accepted and %d throttled", st, accepted.Load(), throttled.Load())
	}
}

func TestThrottlingIsPerServiceAndAccount(t *testing.T) {
	srv := startServer(t, Options{STSRate: 3, STSBurst: 3, OrgsRate: 1, OrgsBurst: 2})
	ctx := context.Background()
	mgmt := mgmtConfig(srv)
	memberCfg := assumeRoleConfig(t, srv, mgmt, "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole") // the first STS token

	steps := []struct {
		name     string
		call     func() error
		wantCode string
	}{
		{"the second STS call of the management account passes", func() error { return callerIdentity(ctx, mgmt) }, ""},
		{"the third STS call empties the bucket of three", func() error { return callerIdentity(ctx, mgmt) }, ""},
		{"the fourth STS call is throttled", func() error { return callerIdentity(ctx, mgmt) }, "Throttling"},
		{"a member account has its own STS bucket", func() error { return callerIdentity(ctx, memberCfg) }, ""},
		{"Organizations has its own bucket", func() error { return listRoots(ctx, mgmt) }, ""},
		{"the second Organizations call empties its bucket of two", func() error { return listRoots(ctx, mgmt) }, ""},
		{"the third Organizations call is TooManyRequestsException", func() error {
			_, err := organizations.NewFromConfig(mgmt).ListAccounts(ctx, &organizations.ListAccountsInput{})
			return err
		}, "TooManyRequestsException"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := st.call()
			if st.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, st.wantCode)
			wantHTTPStatus(t, err, 400)
		})
	}
	t.Run("throttles are counted apart from failures", func(t *testing.T) {
		stats := srv.Stats()
		if got := stats.Operations["sts:GetCallerIdentity"]; got.Requests != 4 || got.Throttled != 1 || got.Failed != 0 {
			t.Fatalf("sts:GetCallerIdentity = %+v", got)
		}
		if got := stats.Total("organizations"); got.Requests != 3 || got.Throttled != 1 {
			t.Fatalf("organizations = %+v", got)
		}
	})
}

func TestStatsEndpoint(t *testing.T) {
	srv := startServer(t, Options{})
	ctx := context.Background()
	for range 3 {
		if err := callerIdentity(ctx, mgmtConfig(srv)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := organizations.NewFromConfig(sdkConfig(srv, "AKIAOUTSIDER00000001", "outsidersecretoutsidersecretoutsidersecr", "")).
		ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantAPIError(t, err, "AWSOrganizationsNotInUseException")

	resp, err := http.Get(srv.URL() + "/_awssim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got Stats
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]OpStats{
		"sts:GetCallerIdentity":      {Requests: 3},
		"organizations:ListAccounts": {Requests: 1, Failed: 1},
	}
	for op, w := range want {
		if got.Operations[op] != w {
			t.Fatalf("%s = %+v, want %+v (all: %+v)", op, got.Operations[op], w, got.Operations)
		}
	}
	if got.Total("") != (OpStats{Requests: 4, Failed: 1}) {
		t.Fatalf("total = %+v", got.Total(""))
	}
}
