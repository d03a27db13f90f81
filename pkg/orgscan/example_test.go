package orgscan_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/scan"
)

// simulatedAWS serves the demo organization on loopback and returns the
// configuration of its management account; a real program would call
// assume.LoadConfig with its profile instead.
func simulatedAWS(ctx context.Context) (aws.Config, func()) {
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	srv, err := awssim.Start(ctx, awssim.Options{Fixture: fx})
	if err != nil {
		log.Fatal(err)
	}
	admin, err := fx.ManagementCredential()
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Region: "us-east-1", EndpointURL: srv.URL(),
		Credentials: credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, ""),
	})
	if err != nil {
		log.Fatal(err)
	}
	return cfg, func() { cancel(); srv.Close() }
}

// Run is the whole scan: the report of every account, and whether it is
// complete.
func ExampleRun() {
	ctx := context.Background()
	cfg, stop := simulatedAWS(ctx)
	defer stop()

	rep, err := orgscan.Run(ctx, orgscan.Config{AWS: cfg, Concurrency: 4})
	if err != nil {
		log.Fatal(err)
	}
	for _, row := range rep.Accounts {
		if row.HasFindings() {
			fmt.Println(row.AccountID, row.Findings)
		}
	}
	fmt.Println("listed:", rep.Scan.Counts.Listed, "complete:", rep.Scan.Complete)
	// Output:
	// 210987654321 [root-password]
	// 402947163850 [root-password root-credentials-while-centrally-managed]
	// 417395028461 [root-signing-certificate root-credentials-while-centrally-managed]
	// 520384716293 [root-access-key root-no-mfa root-password root-credentials-while-centrally-managed]
	// 533810472956 [root-password root-credentials-while-centrally-managed]
	// 548201937465 [root-access-key root-signing-certificate root-no-mfa root-password root-credentials-while-centrally-managed]
	// 559673204818 [root-access-key root-no-mfa root-password root-credentials-while-centrally-managed]
	// 612048573910 [root-password root-credentials-while-centrally-managed]
	// 625830194726 [root-access-key root-credentials-while-centrally-managed]
	// 714203958162 [root-no-mfa root-password root-credentials-while-centrally-managed]
	// listed: 15 complete: true
}

// A scan whose every output takes the rows as they complete need not keep
// them: the report then holds the provenance and the counts only.
func ExampleRun_streaming() {
	ctx := context.Background()
	cfg, stop := simulatedAWS(ctx)
	defer stop()

	var seen atomic.Int64
	rep, err := orgscan.Run(ctx, orgscan.Config{
		AWS: cfg, Concurrency: 4, DiscardRows: true,
		OnRow: func(row *scan.Row) error {
			seen.Add(1) // write the row somewhere; it is not kept
			return nil
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rows seen:", seen.Load(), "kept:", len(rep.Accounts), "listed:", rep.Scan.Counts.Listed)
	// Output:
	// rows seen: 15 kept: 0 listed: 15
}

// Connect, Methods and scan.Discover are the steps before scanning, for a
// program that acts on the accounts otherwise.
func ExampleConnect() {
	ctx := context.Background()
	cfg, stop := simulatedAWS(ctx)
	defer stop()

	s, err := orgscan.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	var names []string
	for _, m := range s.Methods(orgscan.Access{}, nil) {
		names = append(names, m.Name())
	}
	fmt.Println(s.Organization.ID, "root credentials management:", s.RootAccess.RootCredentialsManagement, "access:", names)

	active := 0
	failures, err := scan.Discover(ctx, s.Clients.Organizations, scan.Filter{}, func(a scan.Account) error {
		if a.State == "ACTIVE" {
			active++ // calls are serialized
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active accounts:", active, "OUs not listed:", len(failures))
	// Output:
	// o-7fk2mq9x4a root credentials management: enabled access: [assume-root assume-role]
	// active accounts: 14 OUs not listed: 0
}
