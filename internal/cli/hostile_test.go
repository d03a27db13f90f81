package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/orgscan/orgscan/internal/awssim"
)

// hostileText is what the review's endpoint put in its error messages: a
// screen clear, a window title, a fake green all-clear line, text hidden
// from there on, a carriage return, a C1 CSI and a bidi override.
const hostileText = "\x1b[2J\x1b[H\x1b]0;orgscan: all clear\x07\x1b[32mScan complete: 0 findings\x1b[0m\n\x1b[8mhidden\rrewound \u009b2J\u202eesrever"

// hostileXMLText is hostileText without what XML 1.0 cannot carry (C0
// controls): an S3 or query-protocol message can hold C1 and bidi
// characters only.
const hostileXMLText = "Scan complete: 0 findings \u009b2J\u009d0;title\u009c \u202eesrever\u2066"

// hostileEndpoint is a local endpoint in front of the simulator: it
// answers the requests its hook takes with answers of its own, as a
// compromised or impersonated endpoint would, and passes the rest on.
type hostileEndpoint struct {
	fx   *awssim.Fixture
	sim  *awssim.Server
	url  string
	hook func(w http.ResponseWriter, r *http.Request, op string) bool
}

func startHostile(t *testing.T, hook func(w http.ResponseWriter, r *http.Request, op string) bool) *hostileEndpoint {
	t.Helper()
	fx := demoWorld(t)
	sim, err := awssim.New(awssim.Options{Fixture: fx, Now: func() time.Time { return fixedNow }})
	if err != nil {
		t.Fatal(err)
	}
	h := &hostileEndpoint{fx: fx, sim: sim, hook: hook}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.hook != nil && h.hook(w, r, operation(t, r)) {
			return
		}
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// operation names a request's service and operation, as service:Operation.
func operation(t *testing.T, r *http.Request) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		_, op, _ := strings.Cut(target, ".")
		return "organizations:" + op
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Error(err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		return "query:" + form.Get("Action")
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
		return "s3:ListObjectsV2"
	case r.Method == http.MethodGet:
		return "s3:GetObject"
	case r.Method == http.MethodPut:
		return "s3:PutObject"
	}
	return "s3:" + r.Method
}

// run runs orgscan against the endpoint as the management account, with
// the clock at now.
func (h *hostileEndpoint) run(t *testing.T, now time.Time, args ...string) result {
	t.Helper()
	cred, err := h.fx.ManagementCredential()
	if err != nil {
		t.Fatal(err)
	}
	st, out, errOut := Test()
	env := runEnv{
		streams: st, now: func() time.Time { return now }, version: "test",
		credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, ""),
		fallbackDir: t.TempDir(),
	}
	args = append([]string{args[0], "--endpoint-url", h.url, "--region", "us-east-1"}, args[1:]...)
	code := run(context.Background(), env, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// jsonError answers as a JSON-protocol service (Organizations) does.
func jsonError(w http.ResponseWriter, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

// s3Error answers as S3 does. Go's HTTP client refuses a response header
// that holds a control character, so only the XML body carries hostile
// text here.
func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Error><Code>%s</Code><Message>%s</Message><RequestId>REQ</RequestId></Error>", code, hostileXMLText)
}

// checkTerminalSafe fails when text holds anything a terminal acts on or
// that reorders what it shows: ESC, BEL, CR and every other C0 or C1
// control but the line feed, and bidi and other format characters.
func checkTerminalSafe(t *testing.T, where, text string) {
	t.Helper()
	for i, r := range text {
		if r != '\n' && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)) {
			t.Errorf("%s holds %U at byte %d: %q", where, r, i, text[max(0, i-60):min(len(text), i+60)])
			return
		}
	}
}

// checkJSONLog fails unless every line of a JSON log is a JSON object whose
// strings are themselves safe to print once decoded (jq -r).
func checkJSONLog(t *testing.T, stderr string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // the final error line is text
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("a JSON log line does not parse: %v\n%s", err, line)
			continue
		}
		for k, v := range rec {
			if s, ok := v.(string); ok {
				checkTerminalSafe(t, "the decoded log value "+k, s)
			}
		}
	}
}

func TestHostileTextNeverReachesTheTerminal(t *testing.T) {
	earlier := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	const hostileKey = "history/org=o-7fk2mq9x4a/date=\u202e\u009b2J/orgscan-20261101T000000Z.json"
	listing := func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>orgscan-reports</Name><Prefix>history/org=o-7fk2mq9x4a/</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>%s</Key><LastModified>2026-11-01T00:00:00.000Z</LastModified><ETag>"0"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>`, hostileKey)
	}
	// An earlier report of the same organization, to serve as the
	// baseline the hostile listing names.
	var earlierReport []byte
	{
		h := startHostile(t, nil)
		path := filepath.Join(t.TempDir(), "earlier.json")
		if res := h.run(t, earlier, "scan", "-q", "--out", path); res.code != exitOK && res.code != exitIncomplete {
			t.Fatalf("earlier scan: exit %d: %s", res.code, res.stderr)
		}
		var err error
		if earlierReport, err = os.ReadFile(path); err != nil {
			t.Fatal(err)
		}
	}
	hostileName := filepath.Join(t.TempDir(), "q4\x1b]0;pwned\x07\x1b[2J\u202e.json")
	if err := os.WriteFile(hostileName, []byte("{\"schema_version\": 1}\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		hook func(w http.ResponseWriter, r *http.Request, op string) bool
		args []string
		// path is a word of orgscan's own message on the path under test,
		// proof that the hostile answer was read.
		path     string
		wantCode int
	}{
		{
			name: "discovery: an error message from DescribeOrganization",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "organizations:DescribeOrganization" {
					return false
				}
				jsonError(w, "ConstraintViolationException", hostileText)
				return true
			},
			args: []string{"scan", "-q"}, path: "describe the organization", wantCode: exitFatal,
		},
		{
			name: "discovery: an error message from ListRoots",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "organizations:ListRoots" {
					return false
				}
				jsonError(w, "ConstraintViolationException", hostileText)
				return true
			},
			args: []string{"scan", "-q"}, path: "list the organization's root", wantCode: exitFatal,
		},
		{
			name: "discovery: an error message from ListAccountsForParent, in a JSON log",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "organizations:ListAccountsForParent" {
					return false
				}
				jsonError(w, "ConstraintViolationException", hostileText)
				return true
			},
			args: []string{"scan", "-f", "json", "--log-format", "json"}, path: "ConstraintViolationException", wantCode: exitIncomplete,
		},
		{
			name: "S3: an error message from PutObject",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "s3:PutObject" {
					return false
				}
				s3Error(w, http.StatusForbidden, "AccessDenied")
				return true
			},
			args: []string{"scan", "-q", "--out", "s3://orgscan-reports/r.json"}, path: "the report is saved in", wantCode: exitFatal,
		},
		{
			name: "baseline: an error message from ListObjectsV2",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "s3:ListObjectsV2" {
					return false
				}
				s3Error(w, http.StatusForbidden, "AccessDenied")
				return true
			},
			args: []string{"scan", "-q", "-f", "json", "--baseline", "s3://orgscan-reports/history/"}, path: "baseline", wantCode: exitFatal,
		},
		{
			name: "baseline: a key name from ListObjectsV2, in a JSON log",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				switch {
				case op == "s3:ListObjectsV2":
					listing(w)
				case op == "s3:GetObject" && strings.HasSuffix(r.URL.Path, "orgscan-20261101T000000Z.json"):
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write(earlierReport)
				default:
					return false
				}
				return true
			},
			args: []string{"scan", "-f", "json", "--log-format", "json", "--baseline", "s3://orgscan-reports/history/"}, path: "orgscan-20261101T000000Z.json", wantCode: exitOK,
		},
		{
			name: "baseline: a hostile key name whose report does not parse",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				switch {
				case op == "s3:ListObjectsV2":
					listing(w)
				case op == "s3:GetObject":
					_, _ = io.WriteString(w, "\u202e\u009b2J not a report")
				default:
					return false
				}
				return true
			},
			args: []string{"scan", "-q", "-f", "json", "--baseline", "s3://orgscan-reports/history/"}, path: "orgscan-20261101T000000Z.json", wantCode: exitUsage,
		},
		{
			name: "diff: a hostile report file",
			args: []string{"diff", hostileName, hostileName}, path: "q4", wantCode: exitUsage,
		},
		{
			name: "diff: an error message from GetObject",
			hook: func(w http.ResponseWriter, r *http.Request, op string) bool {
				if op != "s3:GetObject" {
					return false
				}
				s3Error(w, http.StatusNotFound, "NoSuchKey")
				return true
			},
			args: []string{"diff", "s3://orgscan-reports/a.json", "s3://orgscan-reports/b.json"}, path: "NoSuchKey", wantCode: exitFatal,
		},
	} {
		t.Run(tc.name+" reaches stderr without escape, control or bidi characters", func(t *testing.T) {
			h := startHostile(t, tc.hook)
			res := h.run(t, fixedNow, tc.args...)
			if !strings.Contains(res.stderr, tc.path) {
				t.Fatalf("stderr does not show the path under test (%q); exit %d:\n%s", tc.path, res.code, res.stderr)
			}
			checkTerminalSafe(t, "stderr", res.stderr)
			if strings.Contains(strings.Join(tc.args, " "), "--log-format json") {
				checkJSONLog(t, res.stderr)
			}
			if res.code != tc.wantCode && !(tc.wantCode != exitOK && res.code != exitOK) {
				t.Errorf("exit %d, want %d:\n%s", res.code, tc.wantCode, res.stderr)
			}
		})
	}
}

func TestSafeWriter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		writes []string
		want   string
	}{
		{"lines keep their line feeds", []string{"a\n", "b\n"}, "a\nb\n"},
		{"an escape sequence is removed whole", []string{"a\x1b[2Jb\n"}, "ab\n"},
		{"a character split across writes is kept whole", []string{"Prod \xe6\x9c", "\xac\xe7\x95\xaa\n"}, "Prod 本番\n"},
		{"a C1 control sequence split across writes is removed whole", []string{"a\xc2", "\x9b2Jb\n"}, "ab\n"},
		{"an escape split across writes loses its ESC", []string{"a\x1b", "[2Jb\n"}, "a[2Jb\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := newSafeWriter(&buf)
			for _, s := range tc.writes {
				if n, err := io.WriteString(w, s); err != nil || n != len(s) {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if buf.String() != tc.want {
				t.Errorf("wrote %q, want %q", buf.String(), tc.want)
			}
		})
	}
}

func TestOutRefusesALinkAnotherUserPlantedInASharedDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("planting a link owned by another user needs root")
	}
	shared, home := t.TempDir(), t.TempDir()
	if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	bashrc := filepath.Join(home, ".bashrc")
	if err := os.WriteFile(bashrc, []byte("# mine\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(shared, "orgscan-report.json")
	if err := os.Symlink(bashrc, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(link, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, demoWorld(t), awssim.Options{})
	res := s.run(t, "scan", "-q", "--out", link)
	if res.code != exitUsage {
		t.Fatalf("exit %d, want 2: %s", res.code, res.stderr)
	}
	if msg := strings.TrimSuffix(res.stderr, "\n"); strings.Contains(msg, "\n") || !strings.Contains(msg, link) || !strings.Contains(msg, "remove the link") {
		t.Errorf("stderr %q is not one line naming the link and the fix", res.stderr)
	}
	if got, _ := os.ReadFile(bashrc); string(got) != "# mine\n" {
		t.Errorf(".bashrc now holds %q", got)
	}
	if n := s.requests(); n != 0 {
		t.Errorf("%d AWS requests before refusing the output path", n)
	}
}
