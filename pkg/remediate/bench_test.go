package remediate_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// BenchmarkApply1000Accounts plans and applies the removal of a root
// access key and a signing certificate from each of 999 members, through
// the real SDK against an in-process simulator without latency or quotas
// (the world of `go run ./bench -scenario remediate`, smaller): what a
// remediation costs in CPU and allocations per account, client and
// simulator together. Each run gets a fresh simulator, started with the
// timer stopped, since an apply changes its world.
//
//	go test -run '^$' -bench Apply1000 -benchmem ./pkg/remediate
func BenchmarkApply1000Accounts(b *testing.B) {
	const accounts, concurrency = 1000, 32
	fx := awssim.Generate(awssim.GenerateOptions{
		Seed: 1, Accounts: accounts, OUDepth: 2, OUWidth: 4,
		RootKeys: 0.1, RootCerts: 0.05, NoMFA: 0.2, Passwords: 0.3,
		IdleRootKeyAndCert: true,
	})
	cred, err := fx.ManagementCredential()
	if err != nil {
		b.Fatal(err)
	}
	var requests int64
	b.ReportAllocs()
	for range b.N {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := awssim.Start(ctx, awssim.Options{Fixture: fx})
		if err != nil {
			b.Fatal(err)
		}
		cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
			Region: "us-east-1", EndpointURL: srv.URL(), Concurrency: concurrency,
			Credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		})
		if err != nil {
			b.Fatal(err)
		}
		s, err := orgscan.Connect(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		before := srv.Stats().Total("").Requests
		b.StartTimer()

		rep, err := remediate.Apply(ctx, remediate.ApplyConfig{Config: remediate.Config{Session: s, Concurrency: concurrency}})

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if n := rep.Remediation.Counts.ByOutcome[remediate.OutcomeDeleted]; n != 2*(accounts-1) || !rep.Remediation.Complete {
			b.Fatalf("%d deletions, complete %v; want %d, complete", n, rep.Remediation.Complete, 2*(accounts-1))
		}
		requests += srv.Stats().Total("").Requests - before
		cancel()
		srv.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*accounts), "ns/account")
	b.ReportMetric(float64(requests)/float64(b.N*accounts), "requests/account")
}
