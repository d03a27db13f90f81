package assume_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// hugeSummaryBytes is the review's hostile GetAccountSummary body.
const hugeSummaryBytes = 256 << 20

// hostileSummaryEndpoint forwards every request to the simulator except
// IAM's GetAccountSummary, which it answers with a well-formed summary
// padded to hugeSummaryBytes, streamed so that the test holds none of it.
func hostileSummaryEndpoint(t *testing.T, sim *awssim.Server, announceLength bool) *httptest.Server {
	t.Helper()
	target, err := url.Parse(sim.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host // the host the client signed
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		if !strings.Contains(string(body), "Action=GetAccountSummary") {
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			proxy.ServeHTTP(w, r)
			return
		}
		head := `<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>` +
			`<entry><key>AccountMFAEnabled</key><value>1</value></entry>` +
			`<entry><key>AccountAccessKeysPresent</key><value>0</value></entry>` +
			`</SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>`
		tail := `</RequestId></ResponseMetadata></GetAccountSummaryResponse>`
		w.Header().Set("Content-Type", "text/xml")
		if announceLength {
			w.Header().Set("Content-Length", strconv.Itoa(hugeSummaryBytes))
		}
		if _, err := io.WriteString(w, head); err != nil {
			return
		}
		pad := []byte(strings.Repeat("x", 64<<10))
		for left := hugeSummaryBytes - len(head) - len(tail); left > 0; left -= len(pad) {
			if _, err := w.Write(pad[:min(left, len(pad))]); err != nil {
				return // the client stopped reading
			}
		}
		_, _ = io.WriteString(w, tail)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAnOversizedResponseIsAMalformedRowNotAnOKOne: an endpoint answers
// GetAccountSummary with a 256 MiB document that the SDK would decode as
// "MFA on, no keys". The scan reads no more than the cap and reports each
// account as a malformed response.
func TestAnOversizedResponseIsAMalformedRowNotAnOKOne(t *testing.T) {
	for _, announce := range []bool{false, true} {
		name := map[bool]string{false: "a chunked body is cut off at the cap", true: "an announced length beyond the cap is refused unread"}[announce]
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			fx := awssim.Generate(awssim.GenerateOptions{Seed: 3, Accounts: 3, OUDepth: 1, OUWidth: 1})
			sim, err := awssim.Start(ctx, awssim.Options{Fixture: fx})
			if err != nil {
				t.Fatal(err)
			}
			defer sim.Close()
			hostile := hostileSummaryEndpoint(t, sim, announce)
			admin, err := fx.ManagementCredential()
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := assume.LoadConfig(ctx, assume.ConfigOptions{
				Region: "us-east-1", EndpointURL: hostile.URL, Concurrency: 4,
				Credentials: credentials.NewStaticCredentialsProvider(admin.AccessKeyID, admin.SecretAccessKey, ""),
			})
			if err != nil {
				t.Fatal(err)
			}
			clients := assume.NewClients(cfg)
			caller, err := assume.Identify(ctx, clients.STS)
			if err != nil {
				t.Fatal(err)
			}

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			res, err := scan.Run(ctx, scan.Config{
				Orgs: clients.Organizations, IAM: clients.IAM,
				Methods: []scan.Method{assume.NewRoleMethod(clients.STS, assume.RoleOptions{
					Template: assume.RoleNameTemplate(awssim.DefaultRoleName), Partition: caller.Partition,
					SessionName: assume.SessionName(caller), Duration: 15 * time.Minute,
				})},
				CallerAccountID: caller.AccountID, ManagementAccountID: fx.Organization.ManagementAccountID,
				Concurrency: 4, AccountTimeout: time.Minute, Now: time.Now,
			})
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			scanned := 0
			for _, row := range res.Rows {
				if row.Status == scan.StatusSkipped || row.Status == scan.StatusNotScanned {
					continue
				}
				scanned++
				if row.Status != scan.StatusError || row.ErrorCode != scan.CodeMalformed {
					t.Errorf("account %s: status %q, code %q (%s); want error, %s", row.AccountID, row.Status, row.ErrorCode, row.Error, scan.CodeMalformed)
				}
				if !strings.Contains(row.Error, "GetAccountSummary response is larger than") {
					t.Errorf("account %s: the error does not say what was too large: %s", row.AccountID, row.Error)
				}
			}
			if scanned == 0 {
				t.Fatal("no account was scanned")
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d accounts, each answered with %d MiB: %.1f MiB allocated in all, heap in use %.1f MiB after",
				scanned, hugeSummaryBytes>>20, float64(allocated)/(1<<20), float64(after.HeapInuse)/(1<<20))
			// Per account, the SDK's buffer doubles on its way to the cap
			// and the fast path keeps its own copy of the start; the race
			// detector doubles that again. Without the cap it is the
			// whole body, several times over.
			if limit := uint64(scanned) * uint64(assume.ResponseLimit("GetAccountSummary")) * 16; allocated > limit {
				t.Errorf("the scan allocated %d bytes, more than a few times the cap per account (%d in all)", allocated, limit)
			}
		})
	}
}
