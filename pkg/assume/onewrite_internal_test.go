package assume

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// countingConn counts the writes a client makes to its socket.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// streamBody is a body net/http cannot tell is in memory, as the SDK's.
type streamBody struct{ io.Reader }

func (streamBody) Close() error { return nil }

// TestOneWriteClientSendsASmallRequestInOneWrite: a request whose body is
// a stream leaves in two writes, headers then body, unless it is small
// enough for oneWriteClient to hand over from memory; what arrives is the
// same either way.
func TestOneWriteClientSendsASmallRequestInOneWrite(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
	}))
	defer srv.Close()
	small := "Action=ListAccessKeys&Version=2010-05-08"
	large := strings.Repeat("x", maxOneWriteBody+1)
	tests := []struct {
		name       string
		wrap       bool
		body       string
		wantWrites int64
	}{
		{"a small body goes with the headers", true, small, 1},
		{"without the client, headers and body go apart", false, small, 2},
		{"a body above the cap is left to stream", true, large, 0},
		{"a request without a body is one write", true, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var writes atomic.Int64
			tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				return countingConn{Conn: c, writes: &writes}, err
			}}
			defer tr.CloseIdleConnections()
			var client aws.HTTPClient = &http.Client{Transport: tr}
			if tt.wrap {
				client = oneWriteClient{next: client}
			}
			method := http.MethodPost
			if tt.body == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Body, req.ContentLength = streamBody{strings.NewReader(tt.body)}, int64(len(tt.body))
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.Load() != tt.body {
				t.Errorf("the server got a body of %d bytes, want %d", len(got.Load().(string)), len(tt.body))
			}
			n := writes.Load()
			switch {
			case tt.wantWrites > 0 && n != tt.wantWrites:
				t.Errorf("%d writes to the socket, want %d", n, tt.wantWrites)
			case tt.wantWrites == 0 && n < 2:
				t.Errorf("%d writes to the socket for a body above the cap, want it streamed after the headers", n)
			}
		})
	}
}
