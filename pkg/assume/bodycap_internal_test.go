package assume

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// bodyOf answers every request with body, announcing length (-1: unknown).
type bodyOf struct {
	body   string
	length int64
}

func (b bodyOf) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, ContentLength: b.length, Body: io.NopCloser(strings.NewReader(b.body)), Request: r}, nil
}

func TestCappedBodyReadsUpToTheCapAndRefusesMore(t *testing.T) {
	limit := responseLimit("AnyOperation")
	tests := []struct {
		name    string
		size    int64
		length  int64 // announced
		refused bool
	}{
		{"a body of exactly the cap is read whole", limit, -1, false},
		{"a body one byte beyond the cap is refused", limit + 1, -1, true},
		{"an announced length beyond the cap is refused", 10, limit + 1, true},
		{"an empty body is read", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cappedClient{next: bodyOf{body: strings.Repeat("x", int(tt.size)), length: tt.length}}
			req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, err = buf.ReadFrom(resp.Body)
			var tl *ResponseTooLargeError
			if refused := errors.As(err, &tl); refused != tt.refused || (!refused && err != nil) {
				t.Fatalf("read %d bytes, error %v; want refused=%v", buf.Len(), err, tt.refused)
			}
			if tt.refused {
				if tl.Limit != limit || int64(buf.Len()) > limit {
					t.Errorf("read %d bytes before refusing at limit %d (error's limit %d)", buf.Len(), limit, tl.Limit)
				}
				// The SDK drains a body after an error; that must end
				// quietly rather than report the error twice.
				if n, err := resp.Body.Read(make([]byte, 8)); n != 0 || err != io.EOF {
					t.Errorf("a read after the refusal: %d, %v; want 0, EOF", n, err)
				}
			} else if int64(buf.Len()) != tt.size {
				t.Errorf("read %d bytes, want %d", buf.Len(), tt.size)
			}
			if err := resp.Body.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
}
