package sink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/orgscan/orgscan/pkg/output"
	"github.com/orgscan/orgscan/pkg/scan"
)

func TestReportKeyRoundTrips(t *testing.T) {
	started := time.Date(2026, 11, 30, 21, 4, 5, 999, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name string
		key  ReportKey
		want string
	}{
		{"a key under a prefix is partitioned by organization and UTC date",
			ReportKey{Prefix: "audits/", OrgID: "o-abc123def4", Started: started, Ext: ".json"},
			"audits/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.json"},
		{"a scan report's stem, named, writes the same key",
			ReportKey{Prefix: "audits/", OrgID: "o-abc123def4", Started: started, Name: ScanName, Ext: ".json"},
			"audits/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.json"},
		{"a key at the bucket's root has no prefix",
			ReportKey{OrgID: "o-abc123def4", Started: started, Ext: ".ndjson"},
			"org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.ndjson"},
		{"a double extension comes back whole",
			ReportKey{Prefix: "audits/", OrgID: "o-abc123def4", Started: started, Ext: ".ocsf.ndjson"},
			"audits/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.ocsf.ndjson"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.key.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			back, ok := ParseReportKey(tc.want)
			want := tc.key
			want.Started, want.Name = started.UTC().Truncate(time.Second), ""
			if !ok || back != want {
				t.Fatalf("ParseReportKey(%q) = %+v, %v; want %+v", tc.want, back, ok, want)
			}
			if !strings.HasPrefix(tc.want, tc.key.OrgPartition()) {
				t.Errorf("the key %q is not under its organization's partition %q", tc.want, tc.key.OrgPartition())
			}
		})
	}
}

func TestParseReportKeyRefusesKeysOutsideTheLayout(t *testing.T) {
	for _, tc := range []struct {
		name, key string
		ok        bool
	}{
		{"a key in the layout is read", "p/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.json", true},
		{"a mangled date partition is not read, so it does not matter", "p/org=o-abc123def4/date=\u202e\u009b2J/orgscan-20261130T200405Z.json", true},
		{"a report without its date partition is refused", "p/org=o-abc123def4/orgscan-20261130T200405Z.json", false},
		{"a report one folder deeper is refused", "p/org=o-abc123def4/date=2026-11-30/old/orgscan-20261130T200405Z.json", false},
		{"an empty organization is refused", "p/org=/date=2026-11-30/orgscan-20261130T200405Z.json", false},
		{"a name without the orgscan- prefix is refused", "p/org=o-abc123def4/date=2026-11-30/report-20261130T200405Z.json", false},
		{"a timestamp that is not one is refused", "p/org=o-abc123def4/date=2026-11-30/orgscan-20261332T250405Z.json", false},
		{"another document's key is refused", "p/org=o-abc123def4/date=2026-11-30/orgscan-remediation-20261130T200405Z.json", false},
		{"a fallback file name is refused", "p/org=o-abc123def4/date=2026-11-30/orgscan-fallback-20261130T200405Z-abc.json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := ParseReportKey(tc.key); ok != tc.ok {
				t.Errorf("ParseReportKey(%q) ok = %v, want %v", tc.key, ok, tc.ok)
			}
		})
	}
}

// FuzzParseReportKey reads keys as ListObjectsV2 returns them: anything.
// A key it accepts must be one String writes, but for the date partition.
func FuzzParseReportKey(f *testing.F) {
	f.Add("audits/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.json")
	f.Add("org=o-x/date=/orgscan-20261130T200405Z")
	f.Add("//org=o-x//date=x/orgscan-20261130T200405Z.csv")
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := ParseReportKey(key)
		if !ok {
			return
		}
		written := k.String()
		if path.Base(written) != path.Base(key) || !strings.HasPrefix(key, k.OrgPartition()+"date=") {
			t.Fatalf("ParseReportKey(%q) = %+v, which writes %q", key, k, written)
		}
	})
}

// putEndpoint is an S3 endpoint that takes PutObject, or refuses it with
// AccessDenied when deny is set, and keeps what it was sent.
type putEndpoint struct {
	deny bool

	mu       sync.Mutex
	path     string
	body     []byte
	metadata http.Header
}

func (e *putEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	e.path, e.body, e.metadata = r.URL.Path, body, r.Header.Clone()
	e.mu.Unlock()
	if e.deny {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		return
	}
	w.Header().Set("ETag", `"0"`)
	w.Header().Set("x-amz-version-id", "v1")
}

func putClient(t *testing.T, e *putEndpoint) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAEXAMPLESINK00001", "secret", ""),
		Retryer:     aws.NopRetryer{},
	})
}

// sinkReport is a scan report with every field the object metadata reads.
func sinkReport() *scan.Report {
	return &scan.Report{Scan: scan.Meta{
		OrganizationID:    "o-abc123def4",
		StartedAt:         time.Date(2026, 11, 30, 21, 4, 5, 0, time.FixedZone("CET", 3600)),
		Version:           "1.2.3",
		Complete:          false,
		IncompleteReasons: []string{"interrupted", "ous_not_listed"},
		Counts:            scan.Counts{Listed: 7, Scanned: 4, Errors: 2, WithFindings: 3, OUsNotListed: 1},
	}}
}

func TestS3SinkUploadsUnderTheReportKey(t *testing.T) {
	e := &putEndpoint{}
	rep := sinkReport()
	render := func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }
	d, err := S3Sink{API: putClient(t, e), Bucket: "evidence", Key: "audits/", Prefix: true, SSE: "AES256"}.
		Deliver(context.Background(), ScanObject(rep, output.FormatNDJSON), render)
	if err != nil {
		t.Fatal(err)
	}
	key := ReportKey{Prefix: "audits/", OrgID: rep.Scan.OrganizationID, Started: rep.Scan.StartedAt, Ext: ".ndjson"}.String()
	for _, tc := range []struct {
		name      string
		got, want string
	}{
		{"the object is put at the report key", e.path, "/evidence/" + key},
		{"the key is a scan report's", key, "audits/org=o-abc123def4/date=2026-11-30/orgscan-20261130T200405Z.ndjson"},
		{"the delivery names the object", d.Location, "s3://evidence/" + key},
		{"the body is what the renderer wrote", string(e.body), "report"},
		{"the media type is the format's", e.metadata.Get("Content-Type"), "application/x-ndjson"},
		{"the version S3 gave is kept", d.VersionID, "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

// TestAScanReportsObjectMetadataIsUnchanged pins every metadata key and
// value of an uploaded scan report: people query them (S3 inventory,
// Athena), and a baseline check reads two of them back.
func TestAScanReportsObjectMetadataIsUnchanged(t *testing.T) {
	e := &putEndpoint{}
	render := func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }
	if _, err := (S3Sink{API: putClient(t, e), Bucket: "evidence", Key: "r.json"}).
		Deliver(context.Background(), ScanObject(sinkReport(), output.FormatJSON), render); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"org-id":                 "o-abc123def4",
		"schema-version":         output.SchemaVersion,
		"orgscan-version":        "1.2.3",
		"started-at":             "2026-11-30T20:04:05Z",
		"complete":               "false",
		"accounts-listed":        "7",
		"accounts-scanned":       "4",
		"accounts-errors":        "2",
		"accounts-with-findings": "3",
		"incomplete-reasons":     "interrupted,ous_not_listed",
		"ous-not-listed":         "1",
	}
	got := map[string]string{}
	for h, v := range e.metadata {
		if k, ok := strings.CutPrefix(strings.ToLower(h), "x-amz-meta-"); ok {
			got[k] = strings.Join(v, ",")
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("metadata %v\nwant %v", got, want)
	}
	if want[MetadataOrgID] == "" || want[MetadataStartedAt] == "" {
		t.Errorf("the keys a baseline check reads (%s, %s) are not among those an upload sets", MetadataOrgID, MetadataStartedAt)
	}
}

func TestS3SinkNamesADocumentByItsStem(t *testing.T) {
	e := &putEndpoint{deny: true}
	dir := t.TempDir()
	obj := Object{OrgID: "o-abc123def4", Started: sinkReport().Scan.StartedAt, Name: "orgscan-remediation", Ext: ".json", ContentType: "application/json"}
	render := func(w io.Writer) error { _, err := io.WriteString(w, "plan"); return err }
	_, err := S3Sink{API: putClient(t, e), Bucket: "evidence", Key: "audits/", Prefix: true, FallbackDir: dir}.Deliver(context.Background(), obj, render)
	var ue *UploadError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an *UploadError", err)
	}
	key := "audits/org=o-abc123def4/date=2026-11-30/orgscan-remediation-20261130T200405Z.json"
	if e.path != "/evidence/"+key {
		t.Errorf("put %s, want /evidence/%s", e.path, key)
	}
	if k, ok := ParseReportKey(key); ok {
		t.Errorf("ParseReportKey takes the remediation report %s for a scan report: %+v", key, k)
	}
	if base := filepath.Base(ue.Fallback); !strings.HasPrefix(base, "orgscan-remediation-fallback-20261130T200405Z-") {
		t.Errorf("fallback %s does not carry the document's stem and time", base)
	}
}

func TestS3SinkKeepsAReportItCouldNotUpload(t *testing.T) {
	dir := t.TempDir()
	rep := sinkReport()
	render := func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }
	_, err := S3Sink{API: putClient(t, &putEndpoint{deny: true}), Bucket: "evidence", Key: "r.json", FallbackDir: dir}.
		Deliver(context.Background(), ScanObject(rep, output.FormatJSON), render)
	var ue *UploadError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want an *UploadError", err)
	}
	if !strings.Contains(err.Error(), "upload to s3://evidence/r.json failed") || !strings.Contains(err.Error(), "the report is saved in "+ue.Fallback) {
		t.Errorf("the error does not say what failed and where the report is: %v", err)
	}
	if filepath.Dir(ue.Fallback) != dir {
		t.Fatalf("fallback %q is not in %s", ue.Fallback, dir)
	}
	if !strings.HasPrefix(filepath.Base(ue.Fallback), "orgscan-fallback-20261130T200405Z-") {
		t.Errorf("fallback %s is not named as a scan report's", ue.Fallback)
	}
	if b, err := os.ReadFile(ue.Fallback); err != nil || string(b) != "report" {
		t.Errorf("fallback holds %q, %v; want the report", b, err)
	}
}

func TestFileAndStreamSinksWriteWhatTheRendererWrites(t *testing.T) {
	render := func(w io.Writer) error { _, err := io.WriteString(w, "report"); return err }
	t.Run("a file sink replaces the file, readable by its owner only", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "r.csv")
		d, err := FileSink{Path: p}.Deliver(context.Background(), Object{}, render)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil || d.Location != p || fi.Mode().Perm() != 0o600 {
			t.Errorf("delivered %+v, stat %v %v; want %s with mode 0600", d, fi, err, p)
		}
	})
	t.Run("a stream sink writes to its stream", func(t *testing.T) {
		var buf bytes.Buffer
		if _, err := (StreamSink{W: &buf}).Deliver(context.Background(), Object{}, render); err != nil || buf.String() != "report" {
			t.Errorf("stream holds %q, %v", buf.String(), err)
		}
	})
}
