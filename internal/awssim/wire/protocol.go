// Package wire renders answers in the wire protocols of the simulated
// services: JSON 1.1 (Organizations), REST-JSON (Account Management), the
// query protocol's XML (STS, IAM) and REST-XML errors (S3). An APIError is
// an AWS error that each protocol renders in its own shape.
package wire

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// XML namespaces of the query protocol services.
var queryNamespace = map[string]string{
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
}

// WriteResult renders a successful operation in its service's protocol:
// JSON 1.1 for Organizations, a plain JSON document for Account Management
// (REST-JSON), an <OpResponse><OpResult> document for the query services.
func WriteResult(w http.ResponseWriter, service, opName, reqID string, result any) {
	switch service {
	case "organizations", "account":
		body, err := json.Marshal(result)
		if err != nil {
			code := "ServiceException"
			if service == "account" {
				code = "InternalServerException"
			}
			WriteError(w, service, reqID, &APIError{Status: 500, Code: code, Message: err.Error(), Receiver: true})
			return
		}
		contentType := "application/x-amz-json-1.1"
		if service == "account" {
			contentType = "application/json"
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	default:
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "<%sResponse xmlns=%q>\n", opName, queryNamespace[service])
		if result != nil {
			enc := xml.NewEncoder(&buf)
			if err := enc.Encode(result); err != nil {
				WriteError(w, service, reqID, &APIError{Status: 500, Code: "ServiceFailure", Message: err.Error(), Receiver: true})
				return
			}
		}
		fmt.Fprintf(&buf, "\n<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>\n</%sResponse>\n", reqID, opName)
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
	}
}

// WriteError renders an error in the shape the service's protocol uses, so
// that the SDK and the CLI parse the code and message as they would AWS's.
func WriteError(w http.ResponseWriter, service, reqID string, e *APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	var body []byte
	switch service {
	case "organizations":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		// Extra members (InvalidInputException's Reason) sit beside the
		// message, as the service model's exception shapes put them.
		doc := map[string]string{"__type": e.Code, "Message": e.Message}
		for k, v := range e.Extra {
			doc[k] = v
		}
		body, _ = json.Marshal(doc)
	case "account":
		// REST-JSON: the code travels in X-Amzn-ErrorType and the body holds
		// the exception's members, which Account Management's model names in
		// lower case (message, reason).
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", e.Code)
		doc := map[string]string{"message": e.Message}
		for k, v := range e.Extra {
			doc[k] = v
		}
		body, _ = json.Marshal(doc)
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		var buf bytes.Buffer
		buf.WriteString(xml.Header)
		buf.WriteString("<Error><Code>")
		xml.EscapeText(&buf, []byte(e.Code))
		buf.WriteString("</Code><Message>")
		xml.EscapeText(&buf, []byte(e.Message))
		buf.WriteString("</Message>")
		for _, k := range SortedKeys(e.Extra) {
			fmt.Fprintf(&buf, "<%s>", k)
			xml.EscapeText(&buf, []byte(e.Extra[k]))
			fmt.Fprintf(&buf, "</%s>", k)
		}
		fmt.Fprintf(&buf, "<RequestId>%s</RequestId></Error>", reqID)
		body = buf.Bytes()
	default:
		kind := "Sender"
		if e.Receiver {
			kind = "Receiver"
		}
		w.Header().Set("Content-Type", "text/xml")
		var buf bytes.Buffer
		fmt.Fprintf(&buf, "<ErrorResponse xmlns=%q>\n  <Error>\n    <Type>%s</Type>\n    <Code>", queryNamespace[service], kind)
		xml.EscapeText(&buf, []byte(e.Code))
		buf.WriteString("</Code>\n    <Message>")
		xml.EscapeText(&buf, []byte(e.Message))
		fmt.Fprintf(&buf, "</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", reqID)
		body = buf.Bytes()
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// SortedKeys are a map's keys in order, for stable answers.
func SortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// APIError is an AWS error; each protocol renders it in its own shape.
type APIError struct {
	Status  int
	Code    string
	Message string
	// Sender is false for server faults (Type Receiver in query errors).
	Receiver bool
	// Extra members beside the message: XML elements for S3 errors
	// (BucketName, Key), JSON members for Organizations' and Account
	// Management's (Reason, reason).
	Extra map[string]string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// Errorf is an APIError with a formatted message.
func Errorf(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}
