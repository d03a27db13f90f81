package assume

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// redactedHeaders carry secrets. Authorization holds the access key id and
// the signature; the security token is a bearer secret on its own.
var redactedHeaders = []string{"Authorization", "X-Amz-Security-Token", "Cookie", "X-Amz-Server-Side-Encryption-Customer-Key"}

// debugMiddleware traces every attempt of every AWS request to w: the
// operation, method, URL, headers with secrets redacted, the response status
// and the time it took. Bodies are never traced: responses of AssumeRole and
// AssumeRoot carry secret keys and session tokens.
func debugMiddleware(w io.Writer) func(*middleware.Stack) error {
	t := &tracer{w: w}
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("orgscanDebugTrace", t.handle), middleware.After)
	}
}

type tracer struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *tracer) handle(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return next.HandleDeserialize(ctx, in)
	}
	op := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
	start := time.Now()
	t.printf("aws> %s %s %s %s\n", op, req.Method, req.URL.Redacted(), formatHeaders(req.Header))
	out, md, err := next.HandleDeserialize(ctx, in)
	elapsed := time.Since(start).Round(time.Millisecond)
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		t.printf("aws< %s %d %s request-id=%s\n", op, resp.StatusCode, elapsed, resp.Header.Get("X-Amzn-Requestid"))
	} else if err != nil {
		t.printf("aws< %s transport error after %s: %s\n", op, elapsed, RedactSecrets(err.Error()))
	}
	return out, md, err
}

func (t *tracer) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

func formatHeaders(h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := strings.Join(h.Values(k), ",")
		if slices.ContainsFunc(redactedHeaders, func(r string) bool { return strings.EqualFold(r, k) }) {
			v = "REDACTED"
		}
		fmt.Fprintf(&b, "%s=%q", k, v)
	}
	return b.String()
}

// secretPatterns match secrets as they can appear in headers, query
// strings, JSON and XML.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`((?:Signature|X-Amz-Signature|X-Amz-Security-Token|X-Amz-Credential)=)[^\s,&"'<]+`),
	regexp.MustCompile(`("?(?:SessionToken|SecretAccessKey|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN)"?\s*[:=]\s*"?)[^\s,&"'<]+`),
	regexp.MustCompile(`(<(?:SessionToken|SecretAccessKey)>)[^<]*`),
}

// RedactSecrets hides anything in s that looks like a signature, a session
// token or a secret access key. Error messages of the SDK can echo request
// details; this is the last line of defence before they reach a log.
func RedactSecrets(s string) string {
	for _, p := range secretPatterns {
		s = p.ReplaceAllString(s, "${1}REDACTED")
	}
	return s
}
