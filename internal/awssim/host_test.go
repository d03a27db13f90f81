package awssim

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestServerAnswersOnlyForLoopbackHostNames plays DNS rebinding: a page on
// evil.example whose name now resolves to 127.0.0.1 sends requests that
// reach the simulator's port carrying Host: evil.example.
func TestServerAnswersOnlyForLoopbackHostNames(t *testing.T) {
	srv := startServer(t, Options{})
	_, port, _ := net.SplitHostPort(srv.Addr())
	tests := []struct {
		name    string
		host    string
		refused bool
	}{
		{"the listen address is answered", srv.Addr(), false},
		{"localhost is answered", "localhost:" + port, false},
		{"a bucket under localhost is answered", "orgscan-reports.localhost:" + port, false},
		{"the IPv6 loopback is answered", "[::1]:" + port, false},
		{"another loopback address on another port is answered", "127.0.0.2:9", false},
		{"a rebound name is refused", "evil.example:" + port, true},
		{"a rebound name without a port is refused", "evil.example", true},
		{"a name that merely starts with localhost is refused", "localhost.evil.example:" + port, true},
		{"a private address is refused", "192.168.1.10:" + port, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL()+"/_awssim/stats", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if refused := resp.StatusCode == http.StatusMisdirectedRequest; refused != tt.refused {
				t.Fatalf("status %d for Host %q, want refused=%v: %s", resp.StatusCode, tt.host, tt.refused, body)
			}
			if tt.refused && !strings.Contains(string(body), "loopback host names") {
				t.Errorf("the refusal does not say why: %s", body)
			}
		})
	}
}

// TestServerRefusesASignedRequestForAnotherHost: the SDK, pointed at a
// rebound name, gets an error naming the cause instead of an answer, even
// with valid keys.
func TestServerRefusesASignedRequestForAnotherHost(t *testing.T) {
	srv := startServer(t, Options{})
	_, port, _ := net.SplitHostPort(srv.Addr())
	dialer := &net.Dialer{}
	cfg := mgmtConfig(srv)
	cfg.BaseEndpoint = aws.String("http://evil.example:" + port)
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, srv.Addr())
	}}}
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MisdirectedRequest" {
		t.Fatalf("GetCallerIdentity through Host evil.example: %v, want a MisdirectedRequest error", err)
	}
	if !strings.Contains(ae.ErrorMessage(), `"evil.example:`+port+`"`) {
		t.Errorf("the message does not name the refused host: %s", ae.ErrorMessage())
	}
}
