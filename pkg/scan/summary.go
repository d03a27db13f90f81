package scan

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// summaryProtocol reads a successful GetAccountSummary answer itself when
// it is in the plain form IAM sends, and hands everything else (errors,
// anything unusual, anything it does not fully understand) to the SDK's
// own protocol on the same bytes. The summary is the one answer every
// account gives, and the SDK's schema-driven XML decoding of its forty
// counters is a third of a scan's allocations and a tenth of its CPU.
//
// The plain form is a strict subset of XML (see parseSummary); on it the
// two decoders agree, which FuzzSummaryParserAgreesWithTheSDK checks
// against the SDK itself. So the fast path can make a scan cheaper, never
// different.
type summaryProtocol struct {
	smithyhttp.ClientProtocol
}

// maxSummaryBytes bounds what the fast path buffers: a real summary is
// about 3 KB.
const maxSummaryBytes = 64 << 10

func (p summaryProtocol) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, types *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	o, ok := out.(*iam.GetAccountSummaryOutput)
	if !ok || resp.StatusCode < 200 || resp.StatusCode >= 300 || resp.Body == nil {
		return p.ClientProtocol.DeserializeResponse(ctx, schema, types, resp, out)
	}
	var buf bytes.Buffer
	if n := resp.ContentLength; n > 0 && n <= maxSummaryBytes {
		buf.Grow(int(n))
	}
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, maxSummaryBytes+1))
	if err == nil && buf.Len() <= maxSummaryBytes {
		if m, ok := parseSummary(buf.Bytes()); ok {
			o.SummaryMap = m
			return nil
		}
	}
	// The SDK decides, on the bytes already read and whatever follows
	// them; the original body stays the one the SDK closes.
	body := resp.Body
	defer func() { resp.Body = body }()
	rest := io.Reader(body)
	if err != nil {
		rest = errReader{err}
	}
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(buf.Bytes()), rest))
	return p.ClientProtocol.DeserializeResponse(ctx, schema, types, resp, out)
}

// errReader replays a read error for the SDK's decoder to report.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// withSummaryProtocol is the per-call option that installs summaryProtocol.
func withSummaryProtocol(o *iam.Options) {
	if _, done := o.Protocol.(summaryProtocol); !done && o.Protocol != nil {
		o.Protocol = summaryProtocol{o.Protocol}
	}
}

// summaryKeyNames maps each summary key the SDK knows to one shared string,
// so that the fast path allocates no key. It is read-only.
var summaryKeyNames = func() map[string]string {
	values := iamtypes.SummaryKeyType("").Values()
	m := make(map[string]string, len(values))
	for _, v := range values {
		m[string(v)] = string(v)
	}
	return m
}()

// Element paths of a summary document.
const (
	summaryRoot   = "GetAccountSummaryResponse"
	summaryResult = "GetAccountSummaryResult"
	summaryMap    = "SummaryMap"
)

// summaryNames may appear only in their places in the plain form.
var summaryNames = map[string]bool{
	summaryRoot: true, summaryResult: true, summaryMap: true, "entry": true, "key": true, "value": true,
}

var summaryNameList = []string{summaryRoot, summaryResult, summaryMap, "entry", "key", "value"}

// recasedSummaryName reports a name that is one of summaryNames to the
// SDK, which compares element names with strings.EqualFold, but not to the
// plain form: <summarymap> or <Entry>. Non-ASCII names that fold to these
// (the Kelvin sign folds to k) never get here: tag refuses them.
func recasedSummaryName(name string) bool {
	if summaryNames[name] {
		return false
	}
	for _, n := range summaryNameList {
		if len(n) == len(name) && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// parseSummary reads the SummaryMap of a GetAccountSummary document, and
// answers ok=false for any document outside the plain form:
//
//	[<?xml version="1.0" [encoding="UTF-8"]?>]
//	<GetAccountSummaryResponse attrs>
//	  <GetAccountSummaryResult><SummaryMap>
//	    <entry><key>Name</key><value>-?digits</value></entry> ...
//	  </SummaryMap></GetAccountSummaryResult>
//	  other elements, skipped (ResponseMetadata)
//	</GetAccountSummaryResponse>
//
// with exactly one GetAccountSummaryResult holding exactly one SummaryMap,
// each of these names spelt exactly so (the SDK reads them in any case:
// <summarymap> is a SummaryMap to it), whitespace between elements, and
// printable ASCII as the text of elements that hold no others. Comments,
// CDATA, entity references, namespace prefixes, other encodings, a
// byte-order mark, text beside elements, any of the names above out of its
// place or in another case, an entry that is not one key then one value, a
// key that is not a plain name or a value that is not a 32-bit integer:
// all are outside it, and the SDK decodes (or refuses) those. (The SDK reads the first GetAccountSummaryResult it meets at any
// depth, and an entry's value before its key under an empty key; the
// tests hold such documents.)
func parseSummary(doc []byte) (m map[string]int32, ok bool) {
	p := summaryParser{doc: doc}
	if !p.prolog() {
		return nil, false
	}
	var path []string // the open elements
	var key, value []byte
	var haveKey, haveValue, sawRoot, sawResult, sawMap bool
	m = make(map[string]int32, len(summaryKeyNames))
	for {
		text, ok := p.text()
		if !ok {
			return nil, false
		}
		if p.i == len(p.doc) {
			if !allSpace(text) {
				return nil, false
			}
			break
		}
		name, closing, empty, ok := p.tag(len(path) == 0)
		if !ok || recasedSummaryName(name) {
			return nil, false
		}
		// Where the path is: 3 is the SummaryMap, 4 an entry, 5 its key or
		// value.
		inMap := len(path) >= 3 && path[1] == summaryResult && path[2] == summaryMap
		if !closing {
			// Text may only end an element: before a tag it is mixed
			// content, outside the plain form.
			if !allSpace(text) {
				return nil, false
			}
			switch {
			case len(path) == 0:
				if sawRoot || name != summaryRoot {
					return nil, false
				}
				sawRoot = true
			case len(path) == 1 && name == summaryResult:
				if sawResult || empty {
					return nil, false
				}
				sawResult = true
			case len(path) == 2 && path[1] == summaryResult && name == summaryMap:
				if sawMap || empty {
					return nil, false
				}
				sawMap = true
			case inMap && len(path) == 3:
				if name != "entry" || empty {
					return nil, false
				}
			case inMap && len(path) == 4:
				// The key, then the value: the SDK reads them in that order.
				keyFirst := name == "key" && !haveKey && !haveValue
				valueNext := name == "value" && haveKey && !haveValue
				if !keyFirst && !valueNext || empty {
					return nil, false
				}
			case inMap:
				return nil, false // nothing nests in a key or a value
			case summaryNames[name]:
				// The SDK finds these by name wherever they are: out of
				// place, they could make it read something else.
				return nil, false
			}
			if !empty {
				path = append(path, name)
			}
			continue
		}
		if len(path) == 0 || path[len(path)-1] != name {
			return nil, false
		}
		switch {
		case inMap && len(path) == 5 && name == "key":
			key, haveKey = text, true
		case inMap && len(path) == 5:
			value, haveValue = text, true
		case inMap && len(path) == 4:
			if !haveKey || !haveValue || !allSpace(text) {
				return nil, false
			}
			k, v, ok := summaryEntry(key, value)
			if !ok {
				return nil, false
			}
			m[k] = v
			haveKey, haveValue = false, false
		case inMap || len(path) <= 1:
			if !allSpace(text) {
				return nil, false
			}
		}
		path = path[:len(path)-1]
	}
	// Without a SummaryMap the SDK reads nothing or refuses the document.
	if !sawMap || len(path) != 0 {
		return nil, false
	}
	return m, true
}

// summaryEntry checks one entry: a plain key and a 32-bit decimal value.
func summaryEntry(key, value []byte) (string, int32, bool) {
	if len(key) == 0 || len(value) == 0 || !plainKey(key) {
		return "", 0, false
	}
	digits := value
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return "", 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	v, err := strconv.ParseInt(string(value), 10, 32)
	if err != nil {
		return "", 0, false
	}
	k, known := summaryKeyNames[string(key)]
	if !known {
		k = string(key)
	}
	return k, int32(v), true
}

// summaryParser is a cursor over a document in the plain form.
type summaryParser struct {
	doc []byte
	i   int
}

func (p *summaryParser) skipSpace() {
	for p.i < len(p.doc) && isSpace(p.doc[p.i]) {
		p.i++
	}
}

// prolog skips leading whitespace and an XML declaration of version 1.0 in
// UTF-8, the only encoding the SDK reads.
func (p *summaryParser) prolog() bool {
	p.skipSpace()
	for _, decl := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<?xml version="1.0"?>`,
	} {
		if bytes.HasPrefix(p.doc[p.i:], []byte(decl)) {
			p.i += len(decl)
			return true
		}
	}
	return !bytes.HasPrefix(p.doc[p.i:], []byte("<?"))
}

// text returns the bytes up to the next '<' or the end; ok is false when
// they are not printable ASCII or whitespace, or hold '&' or '>'.
func (p *summaryParser) text() (text []byte, ok bool) {
	start := p.i
	for p.i < len(p.doc) && p.doc[p.i] != '<' {
		if c := p.doc[p.i]; !isPlainText(c) {
			return nil, false
		}
		p.i++
	}
	return p.doc[start:p.i], true
}

// tag reads a start tag, an end tag or an empty-element tag at '<'. Only
// the root's start tag may carry attributes (its xmlns).
func (p *summaryParser) tag(root bool) (name string, closing, empty, ok bool) {
	p.i++ // '<'
	if p.i < len(p.doc) && p.doc[p.i] == '/' {
		closing = true
		p.i++
	}
	start := p.i
	for p.i < len(p.doc) && isNameByte(p.doc[p.i]) {
		p.i++
	}
	if p.i == start || !isNameStart(p.doc[start]) {
		return "", false, false, false // '<!', '<?', '<:', '<1' and the like
	}
	name = string(p.doc[start:p.i])
	if root && !closing {
		if !p.attributes() {
			return "", false, false, false
		}
	}
	p.skipSpace()
	if !closing && p.i+1 < len(p.doc) && p.doc[p.i] == '/' && p.doc[p.i+1] == '>' {
		p.i += 2
		return name, false, true, true
	}
	if p.i >= len(p.doc) || p.doc[p.i] != '>' {
		return "", false, false, false
	}
	p.i++
	return name, closing, false, true
}

// attributes skips name="value" pairs whose values are printable ASCII
// without '<' or '&'.
func (p *summaryParser) attributes() bool {
	for {
		before := p.i
		p.skipSpace()
		if p.i >= len(p.doc) || p.doc[p.i] == '>' || p.doc[p.i] == '/' {
			return true
		}
		if p.i == before {
			return false // an attribute must follow whitespace
		}
		start := p.i
		for p.i < len(p.doc) && (isNameByte(p.doc[p.i]) || p.doc[p.i] == ':') {
			p.i++
		}
		if p.i == start || !isNameStart(p.doc[start]) || p.i+1 >= len(p.doc) || p.doc[p.i] != '=' {
			return false
		}
		p.i++
		quote := p.doc[p.i]
		if quote != '"' && quote != '\'' {
			return false
		}
		p.i++
		end := bytes.IndexByte(p.doc[p.i:], quote)
		if end < 0 {
			return false
		}
		for _, c := range p.doc[p.i : p.i+end] {
			if c < 0x20 || c > 0x7e || c == '<' || c == '&' {
				return false
			}
		}
		p.i += end + 1
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

func isPlainText(c byte) bool { return isSpace(c) || 0x20 <= c && c <= 0x7e && c != '&' && c != '>' }

func isNameStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

// isNameByte allows the ASCII letters, digits, '_', '-' and '.' of XML
// names; ':' (a namespace prefix) and anything non-ASCII are outside the
// plain form.
func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.'
}
