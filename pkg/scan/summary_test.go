package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/orgscan/orgscan/internal/awssim"
)

// documentedSummary has the layout of the example in IAM's API reference:
// a namespaced root, one element a line, the request id at the end.
const documentedSummary = `<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountSummaryResult>
    <SummaryMap>
      <entry>
        <key>Groups</key>
        <value>31</value>
      </entry>
      <entry>
        <key>GroupsQuota</key>
        <value>50</value>
      </entry>
      <entry>
        <key>AccountMFAEnabled</key>
        <value>0</value>
      </entry>
      <entry>
        <key>AccountAccessKeysPresent</key>
        <value>1</value>
      </entry>
      <entry>
        <key>AccountSigningCertificatesPresent</key>
        <value>0</value>
      </entry>
      <entry>
        <key>AccountPasswordPresent</key>
        <value>1</value>
      </entry>
    </SummaryMap>
  </GetAccountSummaryResult>
  <ResponseMetadata>
    <RequestId>85cb9b90-ac28-11e4-a88d-97964EXAMPLE</RequestId>
  </ResponseMetadata>
</GetAccountSummaryResponse>
`

// reviewedLowerCaseFirst is the adversarial review's document: a result
// block spelt in lower case, then the real one. The SDK matches names
// regardless of case and reads the first (no access keys, MFA on); a fast
// path that skipped the first as unknown read the second.
const reviewedLowerCaseFirst = `<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <getaccountsummaryresult><summarymap>
    <Entry><Key>AccountAccessKeysPresent</Key><Value>0</Value></Entry>
    <Entry><Key>AccountMFAEnabled</Key><Value>1</Value></Entry>
  </summarymap></getaccountsummaryresult>
  <GetAccountSummaryResult><SummaryMap>
    <entry><key>AccountAccessKeysPresent</key><value>1</value></entry>
    <entry><key>AccountMFAEnabled</key><value>0</value></entry>
  </SummaryMap></GetAccountSummaryResult>
</GetAccountSummaryResponse>
`

// twoResults is reviewedLowerCaseFirst in the plain spelling throughout.
const twoResults = `<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetAccountSummaryResult><SummaryMap>
    <entry><key>AccountAccessKeysPresent</key><value>0</value></entry>
    <entry><key>AccountMFAEnabled</key><value>1</value></entry>
  </SummaryMap></GetAccountSummaryResult>
  <GetAccountSummaryResult><SummaryMap>
    <entry><key>AccountAccessKeysPresent</key><value>1</value></entry>
    <entry><key>AccountMFAEnabled</key><value>0</value></entry>
  </SummaryMap></GetAccountSummaryResult>
</GetAccountSummaryResponse>
`

// compactSummary is 34 counters on one line, as the simulator sends them.
func compactSummary() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<GetAccountSummaryResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetAccountSummaryResult><SummaryMap>`)
	for i := range 34 {
		fmt.Fprintf(&b, "<entry><key>SomeQuotaName%02d</key><value>%d</value></entry>", i, i*100-1)
	}
	b.WriteString(`</SummaryMap></GetAccountSummaryResult><ResponseMetadata><RequestId>abc</RequestId></ResponseMetadata></GetAccountSummaryResponse>`)
	return b.Bytes()
}

// canned answers every request with one body.
type canned struct {
	status int
	body   []byte
}

func (c canned) Do(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: c.status, Header: http.Header{"Content-Type": {"text/xml"}},
		ContentLength: int64(len(c.body)), Body: io.NopCloser(bytes.NewReader(c.body)), Request: r,
	}, nil
}

// decodeSummary sends body through the real IAM client's deserialization:
// the SDK's own, or with the fast path installed.
func decodeSummary(t testing.TB, status int, body []byte, fast bool) (map[string]int32, error) {
	t.Helper()
	c := iam.New(iam.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"),
		HTTPClient:       canned{status, body},
		Credentials:      credentials.NewStaticCredentialsProvider("AKIAEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
	var opts []func(*iam.Options)
	if fast {
		opts = append(opts, withSummaryProtocol)
	}
	out, err := c.GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{}, opts...)
	if err != nil {
		return nil, err
	}
	return out.SummaryMap, nil
}

func TestSummaryFastPathReadsWhatIAMSends(t *testing.T) {
	tests := []struct {
		name string
		doc  []byte
		want int
	}{
		{"the documented layout", []byte(documentedSummary), 6},
		{"a declaration and one line", compactSummary(), 34},
		{"an empty summary", []byte(`<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>`), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, ok := parseSummary(tt.doc)
			if !ok {
				t.Fatal("the fast path refused the document: every scan would pay for the SDK's decoding")
			}
			sdk, err := decodeSummary(t, 200, tt.doc, false)
			if err != nil {
				t.Fatalf("the SDK refused the document: %v", err)
			}
			if len(fast) != tt.want || !maps.Equal(fast, sdk) {
				t.Errorf("fast path %v\nSDK       %v\nwant %d entries, the same in both", fast, sdk, tt.want)
			}
			if got, err := decodeSummary(t, 200, tt.doc, true); err != nil || !maps.Equal(got, sdk) {
				t.Errorf("through the client: %v, %v; want %v", got, err, sdk)
			}
		})
	}
	// The root flags of the documented example, read by the fast path.
	fast, _ := parseSummary([]byte(documentedSummary))
	for k, want := range map[string]int32{"AccountAccessKeysPresent": 1, "AccountPasswordPresent": 1, "AccountMFAEnabled": 0, "AccountSigningCertificatesPresent": 0} {
		if v, ok := fast[k]; !ok || v != want {
			t.Errorf("%s = %d (present %v), want %d", k, v, ok, want)
		}
	}
}

// TestSummaryFastPathLeavesTheRestToTheSDK: each document is outside the
// plain form, so the SDK decides, and the client answers exactly what the
// SDK alone answers, an error or a map.
func TestSummaryFastPathLeavesTheRestToTheSDK(t *testing.T) {
	doc := documentedSummary
	const usersEntry = `<entry><key>Users</key><value>5</value></entry>`
	entry := func(inner string) string {
		return `<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry>` + inner + `</entry></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>`
	}
	tests := []struct {
		name   string
		status int
		doc    string
	}{
		{"a truncated document", 200, doc[:len(doc)/2]},
		{"another operation's document", 200, `<GetUserResponse><GetUserResult/></GetUserResponse>`},
		{"a value beyond 32 bits", 200, entry(`<key>Users</key><value>99999999999</value>`)},
		{"an entry without a value", 200, entry(`<key>Users</key>`)},
		{"an entry with two keys", 200, entry(`<key>Users</key><key>Groups</key><value>1</value>`)},
		{"a value with spaces", 200, entry(`<key>Users</key><value> 7 </value>`)},
		{"a key with an entity", 200, entry(`<key>Us&#101;rs</key><value>7</value>`)},
		{"a comment inside a key", 200, entry(`<key>Us<!-- x -->ers</key><value>7</value>`)},
		{"CDATA as a value", 200, entry(`<key>Users</key><value><![CDATA[7]]></value>`)},
		{"namespace prefixes", 200, `<a:GetAccountSummaryResponse xmlns:a="x"><a:GetAccountSummaryResult/></a:GetAccountSummaryResponse>`},
		{"a byte-order mark", 200, "\ufeff" + doc},
		{"another encoding", 200, `<?xml version="1.0" encoding="ISO-8859-1"?>` + doc},
		{"mismatched end tags", 200, strings.Replace(doc, "</SummaryMap>", "</Summary>", 1)},
		{"text after the document", 200, doc + "trailing"},
		{"two documents", 200, doc + doc},
		{"a second GetAccountSummaryResult (the SDK reads the first)", 200, `<GetAccountSummaryResponse><GetAccountSummaryResult></GetAccountSummaryResult><GetAccountSummaryResult><SummaryMap>` + usersEntry + `</SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>`},
		{"a GetAccountSummaryResult inside another element (the SDK finds it there)", 200, `<GetAccountSummaryResponse><ResponseMetadata><GetAccountSummaryResult><SummaryMap>` + usersEntry + `</SummaryMap></GetAccountSummaryResult></ResponseMetadata><GetAccountSummaryResult><SummaryMap></SummaryMap></GetAccountSummaryResult></GetAccountSummaryResponse>`},
		{"a value before its key (the SDK reads an empty key)", 200, entry(`<value>5</value><key>Users</key>`)},
		{"a SummaryMap outside the result", 200, `<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap>` + usersEntry + `</SummaryMap></GetAccountSummaryResult><SummaryMap>` + usersEntry + `</SummaryMap></GetAccountSummaryResponse>`},
		{"a lower-case result block before the real one (the review's document; the SDK reads the first)", 200, reviewedLowerCaseFirst},
		{"an entry spelt Entry", 200, strings.Replace(entry(`<key>Users</key><value>5</value>`), "entry>", "Entry>", 2)},
		{"a key and a value in capitals", 200, entry(`<KEY>Users</KEY><VALUE>5</VALUE>`)},
		{"a SummaryMap spelt summarymap", 200, strings.ReplaceAll(doc, "SummaryMap>", "summarymap>")},
		{"a result spelt in capitals", 200, strings.ReplaceAll(doc, "GetAccountSummaryResult>", "GETACCOUNTSUMMARYRESULT>")},
		{"a throttling error", 400, `<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>`},
		{"an empty body", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.status == 200 {
				if m, ok := parseSummary([]byte(tt.doc)); ok {
					t.Errorf("the fast path read %v; the document is outside the plain form", m)
				}
			}
			sdk, sdkErr := decodeSummary(t, tt.status, []byte(tt.doc), false)
			got, err := decodeSummary(t, tt.status, []byte(tt.doc), true)
			if fmt.Sprint(err) != fmt.Sprint(sdkErr) || !maps.Equal(got, sdk) {
				t.Errorf("with the fast path: %v, %v\nSDK alone:          %v, %v", got, err, sdk, sdkErr)
			}
		})
	}
}

// FuzzSummaryParserAgreesWithTheSDK: whatever the fast path accepts, the
// SDK decodes to the same map.
func FuzzSummaryParserAgreesWithTheSDK(f *testing.F) {
	f.Add([]byte(documentedSummary), uint64(0))
	f.Add(compactSummary(), uint64(0))
	f.Add([]byte(`<GetAccountSummaryResponse/>`), uint64(0))
	f.Add([]byte(`<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key><value>-0012</value></entry><entry><key>Users</key><value>3</value></entry></SummaryMap><Other>x</Other></GetAccountSummaryResult></GetAccountSummaryResponse>`), uint64(0))
	f.Add([]byte(`<GetAccountSummaryResponse a="1" b='2'><X><Y>1</Y></X><GetAccountSummaryResult><Z/><SummaryMap><entry><key>Users</key><value>-2147483648</value></entry></SummaryMap>junk</GetAccountSummaryResult></GetAccountSummaryResponse>`), uint64(0))
	f.Add([]byte(`<GetAccountSummaryResponse><GetAccountSummaryResult><SummaryMap><entry><key>Users</key><value>1</value></entry></SummaryMap></GetAccountSummaryResult><GetAccountSummaryResult></GetAccountSummaryResult></GetAccountSummaryResponse>`), uint64(0))
	f.Add([]byte(reviewedLowerCaseFirst), uint64(0))
	// The documented example with its result block lower-cased: the
	// fuzzer's mutations of it reach the review's document.
	f.Add([]byte(twoResults), uint64(1<<2|1<<4|3<<6|3<<8|3<<10|3<<12|3<<14|3<<16))
	f.Fuzz(func(t *testing.T, doc []byte, recase uint64) {
		doc = recaseTags(doc, recase)
		fast, ok := parseSummary(doc)
		if !ok {
			return
		}
		sdk, err := decodeSummary(t, 200, doc, false)
		if err != nil {
			t.Fatalf("the fast path read %v from a document the SDK refuses: %v\n%s", fast, err, doc)
		}
		if !maps.Equal(fast, sdk) {
			t.Fatalf("fast path %v\nSDK       %v\n%s", fast, sdk, doc)
		}
	})
}

func BenchmarkGetAccountSummaryDecoding(b *testing.B) {
	body := compactSummary()
	for _, fast := range []bool{false, true} {
		name := map[bool]string{false: "sdk", true: "fast-path"}[fast]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if m, err := decodeSummary(b, 200, body, fast); err != nil || len(m) != 34 {
					b.Fatal(err, len(m))
				}
			}
		})
	}
}

// TestSummaryParserAgreesOnShuffledStructure builds documents that are
// mostly in the plain form, with the elements the SDK looks for repeated,
// dropped, reordered or put out of place, which byte-level fuzzing seldom
// reaches: whatever the fast path accepts, the SDK reads the same way.
func TestSummaryParserAgreesOnShuffledStructure(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	chance := func(p float64) bool { return rng.Float64() < p }
	names := []string{summaryRoot, summaryResult, summaryMap, "entry", "key", "value", "ResponseMetadata", "X"}
	texts := []string{"Users", "Groups", "5", "-3", "", "x y", "007"}
	var b strings.Builder
	// The SDK matches element names regardless of case, so the generator
	// spells them in other cases too: now and then one name, and now and
	// then a whole subtree, the way a block the fast path skips as unknown
	// could still be read by the SDK.
	recasing := false
	spell := func(name string) string {
		if recasing || chance(0.02) {
			return recase(name, rng)
		}
		return name
	}
	elem := func(name string, inner func()) {
		outer := recasing
		if chance(0.04) {
			recasing = true
		}
		name = spell(name)
		b.WriteString("<" + name + ">")
		inner()
		b.WriteString("</" + name + ">")
		recasing = outer
	}
	text := func(s string) func() { return func() { b.WriteString(s) } }
	junk := func() {
		name := names[rng.IntN(len(names))]
		if chance(0.5) {
			elem(name, text(texts[rng.IntN(len(texts))]))
		} else {
			elem(name, func() { elem(names[rng.IntN(len(names))], text("1")) })
		}
	}
	maybeJunk := func() {
		if chance(0.1) {
			junk()
		}
	}
	entry := func() {
		key, value := text(texts[rng.IntN(2)]), text(texts[2+rng.IntN(2)])
		switch {
		case chance(0.85):
			elem("key", key)
			elem("value", value)
		case chance(0.5):
			elem("value", value)
			elem("key", key)
		default:
			elem("key", key)
			maybeJunk()
		}
	}
	summaryMapElem := func() {
		elem(summaryMap, func() {
			for range rng.IntN(4) {
				elem("entry", entry)
				maybeJunk()
			}
		})
	}
	result := func() {
		elem(summaryResult, func() {
			maybeJunk()
			for n := 1; n > 0; n-- {
				summaryMapElem()
				if chance(0.05) {
					n++
				}
			}
			maybeJunk()
		})
	}
	accepted := 0
	for range 5000 {
		b.Reset()
		elem(summaryRoot, func() {
			maybeJunk()
			switch {
			case chance(0.9):
				result()
			case chance(0.5):
				result()
				result()
			}
			maybeJunk()
			if chance(0.5) {
				elem("ResponseMetadata", func() { elem("RequestId", text("r-1")) })
			}
		})
		doc := []byte(b.String())
		fast, ok := parseSummary(doc)
		if !ok {
			continue
		}
		accepted++
		sdk, err := decodeSummary(t, 200, doc, false)
		if err != nil || !maps.Equal(fast, sdk) {
			t.Fatalf("%s\nfast path %v\nSDK       %v, %v", doc, fast, sdk, err)
		}
	}
	if accepted < 1000 {
		t.Fatalf("the fast path accepted %d of 5000 documents: too few to compare", accepted)
	}
	t.Logf("the fast path accepted %d of 5000 documents; the SDK agreed on each", accepted)
}

// recase spells name in another case: all lower, all upper, or letters
// flipped at random; never name itself when it has a letter.
func recase(name string, rng *rand.Rand) string {
	var out string
	switch rng.IntN(3) {
	case 0:
		out = strings.ToLower(name)
	case 1:
		out = strings.ToUpper(name)
	default:
		b := []byte(name)
		for i, c := range b {
			if rng.IntN(2) == 0 {
				b[i] = flipCase(c)
			}
		}
		out = string(b)
	}
	if out == name {
		b := []byte(name)
		for i, c := range b {
			if flipCase(c) != c {
				b[i] = flipCase(c)
				break
			}
		}
		out = string(b)
	}
	return out
}

func flipCase(c byte) byte {
	switch {
	case 'a' <= c && c <= 'z':
		return c - 'a' + 'A'
	case 'A' <= c && c <= 'Z':
		return c - 'A' + 'a'
	}
	return c
}

// recaseTags spells the element names of doc in other cases: the n-th
// start tag, and the end tag that closes it, as the n-th pair of bits of
// choice says (0 as it is, 1 lower, 2 upper, 3 the first letter flipped).
// It lets the fuzzer reach the SDK's case-insensitive matching from any
// document, which mutating bytes one at a time seldom does consistently
// for a start and an end tag.
func recaseTags(doc []byte, choice uint64) []byte {
	if choice == 0 {
		return doc
	}
	out := make([]byte, 0, len(doc))
	var open []int // the spelling of each open element
	n := 0
	for i := 0; i < len(doc); {
		if doc[i] != '<' {
			out = append(out, doc[i])
			i++
			continue
		}
		j := i + 1
		closing := j < len(doc) && doc[j] == '/'
		if closing {
			j++
		}
		k := j
		for k < len(doc) && isNameByte(doc[k]) {
			k++
		}
		if k == j {
			out = append(out, doc[i:k]...)
			i = k
			continue
		}
		var mode int
		if closing {
			if len(open) > 0 {
				mode, open = open[len(open)-1], open[:len(open)-1]
			}
		} else {
			mode = int(choice >> (2 * (n % 32)) & 3)
			n++
			if end := bytes.IndexByte(doc[k:], '>'); end < 0 || end == 0 || doc[k+end-1] != '/' {
				open = append(open, mode)
			}
		}
		name := string(doc[j:k])
		switch mode {
		case 1:
			name = strings.ToLower(name)
		case 2:
			name = strings.ToUpper(name)
		case 3:
			name = string(flipCase(name[0])) + name[1:]
		}
		out = append(out, doc[i:j]...)
		out = append(out, name...)
		i = k
	}
	return out
}

// capture keeps the last response body it passed on.
type capture struct {
	next iam.HTTPClient
	body []byte
}

func (c *capture) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err != nil {
		return resp, err
	}
	c.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(c.body))
	return resp, err
}

// TestSummaryFastPathReadsTheSimulator: the simulator's answer, which every
// test and benchmark scan reads, takes the fast path.
func TestSummaryFastPathReadsTheSimulator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := awssim.Start(ctx, awssim.Options{Fixture: awssim.Generate(awssim.GenerateOptions{Seed: 1, Accounts: 1})})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := &capture{next: http.DefaultClient}
	client := iam.New(iam.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), HTTPClient: c,
		Credentials: credentials.NewStaticCredentialsProvider(awssim.DefaultAccessKeyID, awssim.DefaultSecretAccessKey, ""),
	})
	if _, err := client.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); err != nil {
		t.Fatal(err)
	}
	if m, ok := parseSummary(c.body); !ok || len(m) < 30 {
		t.Fatalf("the fast path refused the simulator's summary (%d entries read):\n%s", len(m), c.body)
	}
}
