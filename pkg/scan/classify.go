package scan

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/aws/smithy-go"
)

// errorCode is the AWS error code inside err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// accessCodes are the AWS codes that mean "not allowed in": the next access
// method may still get in. RegionDisabledException is not one: STS answers
// it for the account whose credentials are asked for, in the region the
// request was signed for (STS API reference, AssumeRole and AssumeRoot
// errors; IAM User Guide, "Managing AWS STS in an AWS Region"), so a root
// session in that account from the same region would meet the same refusal,
// and its AccessDenied would hide the cause that can be fixed.
var accessCodes = map[string]bool{
	"AccessDenied":                     true,
	"AccessDeniedException":            true,
	"UnauthorizedOperation":            true,
	"UnauthorizedAccess":               true,
	"InvalidClientTokenId":             true,
	"NotAuthorized":                    true,
	"OrganizationAccessDenied":         true,
	"ServiceAccessNotEnabled":          true,
	"ServiceAccessNotEnabledException": true,
}

func isAccessError(err error) bool {
	return accessCodes[errorCode(err)]
}

// classify names why an account could not be scanned from AWS's error code
// and the stage that failed, never from the text of AWS's message: AWS
// answers AccessDenied alike whether the role is missing, does not trust
// the caller or wants another external id, and only the stage tells that
// refusal apart from one to read the account once inside.
func classify(err error, actx context.Context) string {
	var ae smithy.APIError
	var de *smithy.DeserializationError
	var xe *xml.SyntaxError
	var je *json.SyntaxError
	var me *malformedIDError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(actx.Err(), context.DeadlineExceeded):
		return CodeTimeout
	case errors.Is(err, context.Canceled):
		return CodeCanceled
	case errors.As(err, &de), errors.As(err, &xe), errors.As(err, &je), errors.As(err, &me), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errNoRootRow):
		return CodeMalformed
	case errors.As(err, &ae):
		code := ae.ErrorCode()
		switch {
		case code == "RegionDisabledException":
			return CodeRegionDisabled
		case accessCodes[code]:
			var se *stageErr
			if errors.As(err, &se) && se.stage == StageAssume && se.method == AccessAssumeRole &&
				(code == "AccessDenied" || code == "AccessDeniedException") {
				return CodeRoleNotAssumable
			}
			return CodeAccessDenied
		case code == "ExpiredToken" || code == "ExpiredTokenException":
			return CodeExpiredToken
		case isThrottleCode(code):
			return CodeThrottled
		}
		return code
	}
	return CodeUnknown
}

func isThrottleCode(code string) bool {
	switch code {
	case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
		return true
	}
	return false
}

// describe renders an account's failure for people: where it failed, then
// AWS's code and message, without the SDK's request plumbing.
func describe(err error) string {
	msg := err.Error()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return strings.ReplaceAll(msg, "failed to refresh cached credentials, ", "")
	}
	head := msg
	if i := strings.Index(head, "operation error "); i >= 0 {
		head = head[:i]
	}
	head = strings.ReplaceAll(head, "failed to refresh cached credentials, ", "")
	head = strings.TrimRight(head, " :,")
	out := ae.ErrorCode() + ": " + ae.ErrorMessage()
	if head != "" {
		out = head + ": " + out
	}
	return out
}

// hintText says, in AWS's terms, what would fix a failure whose fix lies in
// AWS; hintOf names, as data, the fix that lies in the scan's settings,
// which the caller words.
func hintText(code string) string {
	switch code {
	case CodeRoleNotAssumable:
		return " (the role is missing, does not trust the caller, or requires another external id)"
	case CodeRegionDisabled:
		return " (STS is deactivated in this region for the account: activate it in the account's IAM account settings, or scan from a region where it is active)"
	}
	return ""
}

func hintOf(code string) Hint {
	switch code {
	case CodeTimeout:
		return HintAccountTimeout
	case CodeThrottled:
		return HintConcurrency
	}
	return ""
}
