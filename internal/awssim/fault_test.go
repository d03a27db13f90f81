package awssim

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

func callerIdentity(ctx context.Context, cfg aws.Config) error {
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	return err
}

func listRoots(ctx context.Context, cfg aws.Config) error {
	_, err := organizations.NewFromConfig(cfg).ListRoots(ctx, &organizations.ListRootsInput{})
	return err
}

func TestInjectedServerErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		call       func(context.Context, aws.Config) error
		wantCode   string
		wantStatus int
	}{
		{"STS answers InternalFailure with status 500", Options{ErrorRate: 1}, callerIdentity, "InternalFailure", 500},
		{"Organizations answers ServiceException with status 500", Options{ErrorRate: 1}, listRoots, "ServiceException", 500},
		{"faults limited to Organizations leave STS alone", Options{ErrorRate: 1, FaultServices: []string{"organizations"}}, callerIdentity, "", 200},
		{"faults limited to Organizations still hit Organizations", Options{ErrorRate: 1, FaultServices: []string{"organizations"}}, listRoots, "ServiceException", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.opts)
			err := tc.call(context.Background(), mgmtConfig(srv))
			if tc.wantCode == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantAPIError(t, err, tc.wantCode)
			wantHTTPStatus(t, err, tc.wantStatus)
			if st := srv.Stats().Total(""); st.Failed != 1 || st.Requests != 1 {
				t.Fatalf("stats = %+v, want one failed request", st)
			}
		})
	}
}

func TestDroppedConnections(t *testing.T) {
	srv := startServer(t, Options{DropRate: 1})
	err := callerIdentity(context.Background(), mgmtConfig(srv))
	if err == nil {
		t.Fatal("a dropped connection succeeded")
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Fatalf("a dropped connection produced an AWS error %v; want a transport error", err)
	}
	if st := srv.Stats().Operations["sts:GetCallerIdentity"]; st.Failed != 1 {
		t.Fatalf("stats = %+v, want the drop counted as a failure", st)
	}
}

func TestFaultsAreReproducibleUnderASeed(t *testing.T) {
	outcomes := func(seed int64) []bool {
		srv := startServer(t, Options{Seed: seed, ErrorRate: 0.5})
		var out []bool
		for range 40 {
			out = append(out, callerIdentity(context.Background(), mgmtConfig(srv)) == nil)
		}
		return out
	}
	a, b, c := outcomes(11), outcomes(11), outcomes(12)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed injected different faults")
	}
	if slices.Equal(a, c) {
		t.Fatal("different seeds injected the same 40 faults")
	}
	if !slices.Contains(a, true) || !slices.Contains(a, false) {
		t.Fatalf("an error rate of one half gave %v", a)
	}
}

func TestHangingAccounts(t *testing.T) {
	fx := smallFixture()
	fx.Accounts = append(fx.Accounts, member("444444444444", "hangs", "ACTIVE", orgRole(testMgmtAccount)))
	fx.Accounts[len(fx.Accounts)-1].Faults.Hang = true
	srv := startServer(t, Options{Fixture: fx})
	client := sts.NewFromConfig(mgmtConfig(srv))
	const deadline = 150 * time.Millisecond
	tests := []struct {
		name     string
		call     func(context.Context) error
		wantHang bool
	}{
		{"AssumeRole into a hanging account blocks until the client gives up", func(ctx context.Context) error {
			_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::444444444444:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("h1")})
			return err
		}, true},
		{"AssumeRoot into a hanging account blocks until the client gives up", func(ctx context.Context) error {
			_, err := client.AssumeRoot(ctx, &sts.AssumeRootInput{TargetPrincipal: aws.String("arn:aws:iam::444444444444:root"), TaskPolicyArn: &ststypes.PolicyDescriptorType{Arn: aws.String(auditTaskPolicy)}})
			return err
		}, true},
		{"AssumeRole into another account answers at once", func(ctx context.Context) error {
			_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("h2")})
			return err
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.wantHang {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := tc.call(ctx); err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err := tc.call(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) || elapsed < deadline {
				t.Fatalf("err %v after %v, want the client's deadline of %v", err, elapsed, deadline)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	tests := []struct {
		name     string
		latency  time.Duration
		jitter   time.Duration
		min, max time.Duration
	}{
		// The upper bounds are loose: a busy machine adds its own delay.
		{"a base latency delays every request", 60 * time.Millisecond, 0, 60 * time.Millisecond, 2 * time.Second},
		{"jitter keeps requests at base minus jitter or more", 60 * time.Millisecond, 30 * time.Millisecond, 30 * time.Millisecond, 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, Options{Latency: tc.latency, Jitter: tc.jitter})
			cfg := mgmtConfig(srv)
			for range 5 {
				start := time.Now()
				if err := callerIdentity(context.Background(), cfg); err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d < tc.min || d > tc.max {
					t.Fatalf("request took %v, want between %v and %v", d, tc.min, tc.max)
				}
			}
		})
	}
}

func TestMaxFaultBurstLetsTheSameRequestThrough(t *testing.T) {
	srv := startServer(t, Options{ErrorRate: 1, DropRate: 0, MaxFaultBurst: 2})
	cfg := mgmtConfig(srv)
	cfg.RetryMaxAttempts = 1 // count each attempt here, not in the SDK
	ctx := context.Background()
	// Two requests taking turns: each has its own burst.
	var identity, roots []bool
	for range 6 {
		identity = append(identity, callerIdentity(ctx, cfg) == nil)
		roots = append(roots, listRoots(ctx, cfg) == nil)
	}
	want := []bool{false, false, true, false, false, true}
	if !slices.Equal(identity, want) || !slices.Equal(roots, want) {
		t.Fatalf("GetCallerIdentity got through %v and ListRoots %v, want %v for each: two faults in a row, then through", identity, roots, want)
	}
}
