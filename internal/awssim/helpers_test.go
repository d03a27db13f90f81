package awssim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
)

const (
	testMgmtAccount = "111111111111"
	testMgmtKey     = "AKIAMGMTTESTKEY00001"
	testMgmtSecret  = "mgmtsecretmgmtsecretmgmtsecretmgmtsecre"
)

// smallFixture is a hand-written world: a management account, a nested OU
// with two members, and one account outside the organization with a key.
func smallFixture() *Fixture {
	joined := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	return &Fixture{
		Organization: Organization{
			ID: "o-abcdefghij", RootID: "r-ab12", ManagementAccountID: testMgmtAccount,
			OUs: []OU{
				{ID: "ou-ab12-aaaaaaaa", Name: "Workloads", Parent: "r-ab12"},
				{ID: "ou-ab12-bbbbbbbb", Name: "Prod", Parent: "ou-ab12-aaaaaaaa"},
			},
			Features: Features{IAMTrustedAccess: true, RootCredentialsManagement: true, RootSessions: true},
		},
		Accounts: []Account{
			{ID: testMgmtAccount, Name: "management", Email: "mgmt@example.com", State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: joined, Parent: "r-ab12",
				Root: RootUser{MFA: "hardware", Password: &Password{CreatedAt: joined}}},
			{ID: "222222222222", Name: "prod-a", Email: "a@example.com", State: "ACTIVE", JoinedMethod: "CREATED", JoinedTimestamp: joined, Parent: "ou-ab12-bbbbbbbb",
				Root:  RootUser{AccessKeys: []AccessKey{{ID: "AKIAROOTKEY222222222", Status: "Active", CreatedAt: joined}}},
				Roles: []Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}}},
			{ID: "333333333333", Name: "prod-b", Email: "b@example.com", State: "SUSPENDED", JoinedMethod: "INVITED", JoinedTimestamp: joined, Parent: "ou-ab12-bbbbbbbb",
				Roles: []Role{{Name: "OrganizationAccountAccessRole", TrustedAccounts: []string{testMgmtAccount}}}},
		},
		Credentials: []StaticCredential{
			{AccessKeyID: testMgmtKey, SecretAccessKey: testMgmtSecret, AccountID: testMgmtAccount, UserName: "admin"},
			{AccessKeyID: "AKIAOUTSIDER00000001", SecretAccessKey: "outsidersecretoutsidersecretoutsidersecr", AccountID: "999999999999", UserName: "outsider"},
		},
		Buckets: []Bucket{{Name: "orgscan-reports", OwnerID: testMgmtAccount}},
	}
}

// startServer runs a simulator for the test's lifetime.
func startServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Fixture == nil {
		opts.Fixture = smallFixture()
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { cancel(); srv.Close() })
	return srv
}

// sdkConfig is an aws.Config that talks to srv with the given static keys.
func sdkConfig(srv *Server, akid, secret, token string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL()),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secret, token),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
		HTTPClient:   testHTTPClient,
	}
}

// sessionConfig is an aws.Config that talks to srv with credentials STS
// issued.
func sessionConfig(srv *Server, c *ststypes.Credentials) aws.Config {
	return sdkConfig(srv, aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
}

// testHTTPClient buffers request bodies before they reach the transport.
// smithy-go closes an operation's request body as soon as the response
// headers arrive, and its body then answers the transport's final read
// with io.EOF; when a loopback server answers before that read, net/http
// treats the EOF as a write error and closes the connection under the
// response body (aws/aws-sdk-go-v2#2737; the SDK's default retryer retries
// it, but these tests run without retries). A buffered body is the
// transport's own copy, so the early close cannot reach it.
var testHTTPClient = &http.Client{Transport: bufferedBodyTransport{base: http.DefaultTransport}}

type bufferedBodyTransport struct{ base http.RoundTripper }

func (t bufferedBodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.base.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	clone := r.Clone(r.Context())
	clone.Body = io.NopCloser(bytes.NewReader(body))
	clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return t.base.RoundTrip(clone)
}

func mgmtConfig(srv *Server) aws.Config {
	return sdkConfig(srv, testMgmtKey, testMgmtSecret, "")
}

// awsCLI runs the AWS CLI against srv. It skips when no CLI is installed,
// except under CI, where a missing CLI is a failure.
func awsCLI(t *testing.T, srv *Server, creds [3]string, args ...string) (string, error) {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the AWS CLI is required under CI=true: %v", err)
		}
		t.Skip("no aws CLI on PATH; the conformance test needs it")
	}
	cmd := exec.Command(path, append([]string{"--endpoint-url", srv.URL(), "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_ACCESS_KEY_ID=" + creds[0],
		"AWS_SECRET_ACCESS_KEY=" + creds[1],
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
	}
	if creds[2] != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+creds[2])
	}
	if pyenv := os.Getenv("PYENV_ROOT"); pyenv != "" {
		cmd.Env = append(cmd.Env, "PYENV_ROOT="+pyenv)
	}
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

var mgmtCLICreds = [3]string{testMgmtKey, testMgmtSecret, ""}
