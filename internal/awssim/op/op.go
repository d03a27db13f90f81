// Package op is what an operation of a simulated service receives: the
// authenticated request as a Call, and Func, the shape of an operation of a
// JSON or query protocol service.
package op

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/orgscan/orgscan/internal/awssim/auth"
	"github.com/orgscan/orgscan/internal/awssim/wire"
)

// Call is one authenticated request on its way to an operation.
type Call struct {
	Ctx     context.Context
	Request *http.Request
	Body    []byte
	Form    url.Values // query protocol parameters
	Service string
	Region  string
	Op      string
	Caller  *auth.Principal
	Now     time.Time
}

// Func is an operation of a JSON or query protocol service. It returns the
// result document: for query services a struct whose XMLName is <Op>Result.
type Func func(c *Call) (any, error)

// DecodeJSON reads a JSON 1.1 request body into v.
func (c *Call) DecodeJSON(v any) error {
	if len(bytes.TrimSpace(c.Body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(c.Body, v); err != nil {
		return wire.Errorf(http.StatusBadRequest, "SerializationException", "could not parse request body: %v", err)
	}
	return nil
}

// TargetAccount is the account a request acts in: the account a role or
// root session is requested for, or the caller's own account.
func (c *Call) TargetAccount() string {
	switch c.Op {
	case "AssumeRole":
		if parts := strings.Split(c.Form.Get("RoleArn"), ":"); len(parts) >= 5 {
			return parts[4]
		}
	case "AssumeRoot":
		return auth.AccountOfPrincipal(c.Form.Get("TargetPrincipal"))
	}
	return c.Caller.AccountID
}
