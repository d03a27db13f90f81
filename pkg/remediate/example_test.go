package remediate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/remediate"
)

// simulatedAWS serves the demo organization on loopback and returns the
// configuration of its management account, and the simulator to count
// what changed; a real program would call assume.LoadConfig with its
// profile instead.
func simulatedAWS(ctx context.Context) (aws.Config, *awssim.Server, func()) {
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
	return cfg, srv, func() { cancel(); srv.Close() }
}

// demoClock is the time the demo world's key use is measured against.
func demoClock() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// Plan decides and changes nothing; Apply carries the plan out and
// returns the evidence.
func Example() {
	ctx := context.Background()
	cfg, srv, stop := simulatedAWS(ctx)
	defer stop()

	s, err := orgscan.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	plan, err := remediate.Plan(ctx, remediate.Config{Session: s, Now: demoClock})
	if err != nil {
		log.Fatal(err)
	}
	t := plan.Totals()
	fmt.Printf("plan: %d deletions in %d accounts of %s, %d held; IAM changes: %d\n",
		t.Deletions, t.Accounts, t.OrganizationID, t.Held, srv.Stats().Total("iam").Mutations)
	for _, a := range plan.Accounts {
		for _, x := range a.Actions {
			fmt.Println(" ", a.AccountID, x.Kind, x.ID, strings.TrimSpace(x.Decision+" "+x.Hold))
		}
	}

	evidence, err := remediate.Apply(ctx, remediate.ApplyConfig{Config: remediate.Config{Session: s, Now: demoClock}, Plan: plan})
	if err != nil {
		log.Fatal(err)
	}
	for _, a := range evidence.Accounts {
		if a.Status == remediate.StatusRemediated || a.Status == remediate.StatusFailed {
			fmt.Println(a.AccountID, a.Status, len(a.After.AccessKeys), "keys left")
		}
	}
	fmt.Println("deleted:", evidence.Remediation.Counts.ByOutcome[remediate.OutcomeDeleted], "IAM changes:", srv.Stats().Total("iam").Mutations)
	// Output:
	// plan: 6 deletions in 4 accounts of o-7fk2mq9x4a, 1 held; IAM changes: 0
	//   417395028461 signing-certificate Q3R7ZK2M9XW4TB6PLN8DCV5HJ1FGS0AE delete
	//   520384716293 access-key AKIAXR7Q2M4K9PLZ3WCD hold recently_used
	//   548201937465 access-key AKIAL3G8V1N5T2RQ7HYB delete
	//   548201937465 signing-certificate M2K8W5R1Z9Q4N7B3X6C0V2L5T8H1J4PD delete
	//   559673204818 access-key AKIAT9W2E6R4Y8U1I3OP delete
	//   625830194726 access-key AKIAB4N7M1Q9W3E5R8TY delete
	//   625830194726 access-key AKIAZ6X2C8V4B1N7M3QW delete
	// 417395028461 remediated 0 keys left
	// 548201937465 remediated 0 keys left
	// 559673204818 remediated 0 keys left
	// 625830194726 remediated 0 keys left
	// deleted: 6 IAM changes: 6
}

// A plan saved for review is read back strictly, and checked against the
// caller's organization, before a second person applies it.
func ExampleReadPlan() {
	ctx := context.Background()
	cfg, _, stop := simulatedAWS(ctx)
	defer stop()
	s, err := orgscan.Connect(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	plan, err := remediate.Plan(ctx, remediate.Config{Session: s, Now: demoClock})
	if err != nil {
		log.Fatal(err)
	}
	saved, err := json.Marshal(plan) // the file a reviewer reads
	if err != nil {
		log.Fatal(err)
	}

	reviewed, err := remediate.ReadPlan(bytes.NewReader(saved))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("intact:", reviewed.Remediation.Plan.Digest == plan.Remediation.Plan.Digest)
	fmt.Println("a day later:", remediate.CheckPlan(reviewed, s.Organization.ID, demoClock().Add(25*time.Hour), 0))

	edited := bytes.Replace(saved, []byte("AKIAL3G8V1N5T2RQ7HYB"), []byte("AKIAL3G8V1N5T2RQ7HYC"), 1)
	_, err = remediate.ReadPlan(bytes.NewReader(edited))
	fmt.Println("edited:", err != nil)
	// Output:
	// intact: true
	// a day later: the plan was made at 2026-12-01T00:00:00Z, 25h0m0s ago, and plans older than 24h0m0s are refused: the accounts may have changed since; make a new plan, or allow an older one
	// edited: true
}
