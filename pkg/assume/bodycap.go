package assume

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
)

// Response body caps. Each is far above anything AWS sends for the
// operation, so only a broken or hostile endpoint reaches one; the SDK
// otherwise buffers a whole answer, however large, once per account and
// concurrent call.
const (
	// defaultResponseLimit covers every operation without its own cap:
	// pages of accounts or OUs, sessions from STS, MFA devices, errors.
	defaultResponseLimit int64 = 8 << 20
	// summaryResponseLimit: GetAccountSummary holds a few dozen counters.
	summaryResponseLimit int64 = 1 << 20
	// credentialReportResponseLimit: the report is a base64 CSV line per
	// IAM user of the account.
	credentialReportResponseLimit int64 = 64 << 20
	// objectResponseLimit: a baseline report read from S3, which the
	// report reader bounds again by its own size limit.
	objectResponseLimit int64 = 1 << 30
)

// responseLimits are the caps of operations that differ from the default.
var responseLimits = map[string]int64{
	"GetAccountSummary":   summaryResponseLimit,
	"GetCredentialReport": credentialReportResponseLimit,
	"GetObject":           objectResponseLimit,
}

// responseLimit is the most bytes of an operation's response body that
// orgscan reads.
func responseLimit(operation string) int64 {
	if n, ok := responseLimits[operation]; ok {
		return n
	}
	return defaultResponseLimit
}

// ResponseTooLargeError is a response body beyond its operation's cap.
// The SDK reports it as a deserialization error, which the scanner counts
// as a malformed response.
type ResponseTooLargeError struct {
	Operation string
	Limit     int64
}

func (e *ResponseTooLargeError) Error() string {
	op := e.Operation
	if op == "" {
		op = "AWS"
	}
	return fmt.Sprintf("the %s response is larger than %d bytes, far beyond any real answer: the endpoint is broken or not AWS; check the endpoint URL and any proxy in between", op, e.Limit)
}

// cappedClient caps the body of every response of the clients built from
// one configuration, while it is read: the SDK never holds more than the
// cap of a response it will refuse anyway.
type cappedClient struct {
	next aws.HTTPClient
}

func (c cappedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err != nil || resp == nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	op := awsmiddleware.GetOperationName(r.Context())
	b := &cappedBody{rc: resp.Body, left: responseLimit(op), err: &ResponseTooLargeError{Operation: op, Limit: responseLimit(op)}}
	if resp.ContentLength > b.left {
		// Announced too large: refuse before reading any of it.
		b.left = -1
	}
	resp.Body = b
	return resp, nil
}

// cappedBody answers its error once more than the cap would be read, and
// the end of the body after that: the SDK, having reported the error,
// drains what is left of a body for connection reuse, and would warn on
// stderr about a second error. The connection is closed instead, its body
// unread. A body of exactly the cap reads to its end.
type cappedBody struct {
	rc       io.ReadCloser
	left     int64 // bytes still allowed; negative once refused
	err      *ResponseTooLargeError
	reported bool
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		if b.reported {
			return 0, io.EOF
		}
		b.reported = true
		return 0, b.err
	}
	if b.left == 0 {
		// Only the end of the body may follow.
		var one [1]byte
		n, err := io.ReadFull(b.rc, one[:])
		if n > 0 {
			b.left, b.reported = -1, true
			return 0, b.err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }
