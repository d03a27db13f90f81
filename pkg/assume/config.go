// Package assume gets orgscan into member accounts: it loads the base AWS
// configuration once, identifies the caller, and hands out per-account
// credentials from sts:AssumeRole or sts:AssumeRoot, each a session that
// renews instead of expiring mid-scan.
package assume

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
)

// ConfigOptions select the caller's credentials and endpoints.
type ConfigOptions struct {
	Profile string
	// Region is us-east-1 when neither it nor the environment names one.
	Region      string
	EndpointURL string
	// Concurrency sizes the shared HTTP connection pool: every IAM call of
	// the scan goes to one host, and the SDK keeps only 10 idle connections
	// per host by default.
	Concurrency int
	// Debug, when set, receives a redacted trace of every AWS request.
	Debug io.Writer
	// Credentials, when set, replace the default credential chain.
	Credentials aws.CredentialsProvider
}

// defaultRegion is used when neither ConfigOptions nor the environment name one:
// STS must be called through a regional endpoint (AssumeRoot refuses the
// global one), and IAM and Organizations are global services anyway.
const defaultRegion = "us-east-1"

// LoadConfig loads the base configuration once for the whole scan.
func LoadConfig(ctx context.Context, o ConfigOptions) (aws.Config, error) {
	conns := max(o.Concurrency, 1) + 8
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = conns * 2
		tr.MaxIdleConnsPerHost = conns
		tr.MaxConnsPerHost = 0
		tr.IdleConnTimeout = 90 * time.Second
	})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(newRetryer),
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(o.Credentials))
	}
	if o.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(o.EndpointURL))
	}
	if o.Debug != nil {
		opts = append(opts, config.WithAPIOptions([]func(*middleware.Stack) error{debugMiddleware(o.Debug)}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	// Wrapped only now: loading configures the buildable client itself
	// (a custom CA bundle) and refuses any other type.
	cfg.HTTPClient = cappedClient{next: oneWriteClient{next: cfg.HTTPClient}}
	return cfg, nil
}

// maxOneWriteBody is the largest request body oneWriteClient sends from
// memory: far above a Query-protocol request (STS, IAM), a short form. A
// larger body (a report uploaded to S3) is left to stream.
const maxOneWriteBody = 64 << 10

// oneWriteClient sends a small request body as a bytes.Reader. net/http
// flushes the headers on their own before a body it does not know to be in
// memory, and the SDK's body is a stream: each request then costs two
// writes to the socket, two packets and two wakeups of the server. With a
// body net/http knows, headers and body leave in one write (see the
// remediate benchmark in bench/README.md).
type oneWriteClient struct {
	next aws.HTTPClient
}

func (c oneWriteClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength <= 0 || r.ContentLength > maxOneWriteBody {
		return c.next.Do(r)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
	// The transport closes the body it is given, and this one it is not.
	r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read the %s request body: %w", r.URL.Redacted(), err)
	}
	// A shallow copy: the caller's request is left as it was.
	sent := *r
	sent.Body = io.NopCloser(bytes.NewReader(body))
	sent.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	return c.next.Do(&sent)
}

// Caller is who runs the scan.
type Caller struct {
	ARN       string
	AccountID string
	UserID    string
	Partition string
}

// name is the caller's short name for session names: the user, the role
// session or the role, whichever the ARN ends with.
func (c Caller) name() string {
	rest := c.ARN
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		rest = rest[i+1:]
	}
	parts := strings.Split(rest, "/")
	return parts[len(parts)-1]
}

// IdentityGetter is the STS call that identifies the caller.
type IdentityGetter interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Identify asks STS who the caller is. Its errors are the first sign of
// missing or expired credentials.
func Identify(ctx context.Context, api IdentityGetter) (Caller, error) {
	out, err := api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Caller{}, fmt.Errorf("identify the caller with sts:GetCallerIdentity: %w", err)
	}
	c := Caller{ARN: aws.ToString(out.Arn), AccountID: aws.ToString(out.Account), UserID: aws.ToString(out.UserId)}
	p, err := partitionOf(c.ARN)
	if err != nil {
		return Caller{}, err
	}
	c.Partition = p
	return c, nil
}

// errBadARN reports an ARN orgscan cannot read.
var errBadARN = errors.New("not an ARN")

// partitionOf reads the partition (aws, aws-cn, aws-us-gov) from an ARN.
func partitionOf(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" || parts[1] == "" {
		return "", fmt.Errorf("caller ARN %q: %w", arn, errBadARN)
	}
	return parts[1], nil
}

// Clients are the service clients a scan calls, wired as it needs them.
type Clients struct {
	STS           *sts.Client
	IAM           *iam.Client
	Organizations *organizations.Client
	// Account is AWS Account Management's, for the accounts' alternate
	// contacts.
	Account *account.Client
}

// NewClients builds the scan's clients from one configuration. STS and
// Organizations throttle per calling account, and so, by a guess, does
// Account Management (its quotas say only "per account"): their clients
// pace their attempts once throttled. IAM throttles per target account, so
// one account's throttles must not slow the others.
func NewClients(cfg aws.Config) Clients {
	return Clients{
		STS:           sts.NewFromConfig(cfg, func(o *sts.Options) { o.Retryer = newPacedRetryer() }),
		IAM:           iam.NewFromConfig(cfg),
		Organizations: organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.Retryer = newPacedRetryer() }),
		Account:       account.NewFromConfig(cfg, func(o *account.Options) { o.Retryer = newPacedRetryer() }),
	}
}
