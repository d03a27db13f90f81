package output

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/examples"
	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/orgscan"
	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/schema/schematest"
)

// The writers against the engine itself: the demo world planned and
// applied through the real SDK clients and the simulator, each account
// streamed to NDJSON as the engine finishes it, the whole report to JSON.
// Every line and both documents must validate, and the plan the JSON
// writer saved must be one pkg/remediate reads back and applies: its
// digest covers the report's own encoding, so a writer that changed a
// byte of meaning would make every saved plan "edited".
func TestRemediationOfTheDemoWorld(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fx, err := awssim.ReadFixture(bytes.NewReader(examples.DemoWorld))
	if err != nil {
		t.Fatalf("read the demo world: %v", err)
	}
	srv, err := awssim.Start(ctx, awssim.Options{Fixture: fx})
	if err != nil {
		t.Fatalf("start the simulator: %v", err)
	}
	defer srv.Close()
	admin, err := fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
		Region: "us-east-1", EndpointURL: srv.URL(), Concurrency: 8,
		Credentials: credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	session, err := orgscan.Connect(ctx, cfg)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	schemas := schematest.Compile(t)
	clock := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

	// run renders one run: NDJSON fed by OnAccount, then JSON of the report.
	run := func(t *testing.T, do func(remediate.Config) (*remediate.Report, error)) (doc []byte, lines []string) {
		t.Helper()
		var stream bytes.Buffer
		nd, err := NewRemediation(FormatNDJSON, &stream, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := do(remediate.Config{Session: session, Now: clock, Concurrency: 4, Version: "1.2.3-test", OnAccount: nd.WriteAccount})
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if err := nd.Close(rep); err != nil {
			t.Fatal(err)
		}
		doc = renderRemediation(t, FormatJSON, rep, Options{})
		if err := schematest.Validate(t, schemas.Remediation, doc); err != nil {
			t.Errorf("the %s's JSON does not validate: %v", rep.Remediation.Mode, err)
		}
		lines = strings.Split(strings.TrimSuffix(stream.String(), "\n"), "\n")
		if len(lines) != len(rep.Accounts) {
			t.Errorf("%d NDJSON lines, want one per account (%d)", len(lines), len(rep.Accounts))
		}
		for i, l := range lines {
			if err := schematest.Validate(t, schemas.RemediationAccount, []byte(l)); err != nil {
				t.Errorf("NDJSON line %d of the %s does not validate: %v\n%s", i+1, rep.Remediation.Mode, err, l)
			}
		}
		for _, f := range RemediationFormats() {
			renderRemediation(t, f, rep, Options{})
		}
		return doc, lines
	}

	saved, _ := run(t, func(c remediate.Config) (*remediate.Report, error) { return remediate.Plan(ctx, c) })
	if n := srv.Stats().Total("iam").Mutations; n != 0 {
		t.Fatalf("the plan made %d mutating IAM calls", n)
	}
	plan, err := remediate.ReadPlan(bytes.NewReader(saved))
	if err != nil {
		t.Fatalf("the plan the JSON writer saved does not read back: %v", err)
	}
	evidence, _ := run(t, func(c remediate.Config) (*remediate.Report, error) {
		return remediate.Apply(ctx, remediate.ApplyConfig{Config: c, Plan: plan})
	})
	if !bytes.Contains(evidence, []byte(`"outcome": "deleted"`)) {
		t.Errorf("the demo world's apply deleted nothing:\n%s", evidence)
	}
}
