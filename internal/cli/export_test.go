package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

const reportBucket = "orgscan-reports"

func TestS3Export(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		key         string
		contentType string
		sse, kmsKey string
	}{
		{
			name:        "a prefix gets Hive-style partitions and the JSON document",
			args:        []string{"--out", "s3://orgscan-reports/audits/"},
			key:         "audits/org=o-7fk2mq9x4a/date=2026-11-30/orgscan-20261130T093000Z.json",
			contentType: "application/json", sse: "AES256",
		},
		{
			name:        "a prefix takes --format",
			args:        []string{"-f", "ndjson", "--out", "s3://orgscan-reports/audits/"},
			key:         "audits/org=o-7fk2mq9x4a/date=2026-11-30/orgscan-20261130T093000Z.ndjson",
			contentType: "application/x-ndjson", sse: "AES256",
		},
		{
			name:        "an exact key keeps its name and its extension's format",
			args:        []string{"--out", "s3://orgscan-reports/exact/report.csv"},
			key:         "exact/report.csv",
			contentType: "text/csv; charset=utf-8", sse: "AES256",
		},
		{
			name:        "KMS encryption with a named key",
			args:        []string{"--out", "s3://orgscan-reports/kms/r.json", "--sse", "aws:kms", "--sse-kms-key-id", "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			key:         "kms/r.json",
			contentType: "application/json", sse: "aws:kms", kmsKey: "arn:aws:kms:us-east-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		},
		{
			name:        "the right expected bucket owner is accepted",
			args:        []string{"--out", "s3://orgscan-reports/owned/r.json", "--expected-bucket-owner", "210987654321"},
			key:         "owned/r.json",
			contentType: "application/json", sse: "AES256",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			res := s.run(t, append([]string{"scan", "-q"}, tc.args...)...)
			if res.code != exitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if res.stdout != "" {
				t.Errorf("with --out, stdout must stay empty; got %d bytes", len(res.stdout))
			}
			obj, ok := s.srv.Object(reportBucket, tc.key)
			if !ok {
				t.Fatalf("no object at %s; bucket holds %v", tc.key, s.srv.Objects(reportBucket))
			}
			h := obj.Header
			if got := h.Get("Content-Type"); got != tc.contentType {
				t.Errorf("content type %q, want %q", got, tc.contentType)
			}
			if got := h.Get("X-Amz-Server-Side-Encryption"); got != tc.sse {
				t.Errorf("SSE %q, want %q", got, tc.sse)
			}
			if got := h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tc.kmsKey {
				t.Errorf("KMS key %q, want %q", got, tc.kmsKey)
			}
			sum := sha256.Sum256(obj.Body)
			if got := h.Get("X-Amz-Checksum-Sha256"); got != base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("checksum header %q does not match the body", got)
			}
			for k, want := range map[string]string{
				"X-Amz-Meta-Org-Id": "o-7fk2mq9x4a", "X-Amz-Meta-Schema-Version": "1",
				"X-Amz-Meta-Orgscan-Version": "test", "X-Amz-Meta-Accounts-Listed": "15",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("metadata %s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestFailedUploadKeepsTheReportLocallyAndExitsOne(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		extra     []string
		errHas    string
	}{
		{"another account owns the bucket", "s3://orgscan-reports/r.json", []string{"--expected-bucket-owner", "123456789012"}, "AccessDenied"},
		{"the bucket does not exist", "s3://no-such-bucket-here/r.json", nil, "NoSuchBucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSim(t, demoWorld(t), awssim.Options{})
			local := filepath.Join(t.TempDir(), "local.json")
			res := s.run(t, append([]string{"scan", "-q", "--out", tc.out, "--out", local}, tc.extra...)...)
			if res.code != exitFatal {
				t.Fatalf("exit %d, want 1: %s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.errHas) || !strings.Contains(res.stderr, "the report is saved in") {
				t.Errorf("stderr %q must give the cause and the fallback file", res.stderr)
			}
			matches, _ := filepath.Glob(filepath.Join(s.fallbackDir, "orgscan-fallback-*.json"))
			if len(matches) != 1 || !strings.Contains(res.stderr, matches[0]) {
				t.Fatalf("fallback files %v, not named in %q", matches, res.stderr)
			}
			fallback, err := os.ReadFile(matches[0])
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(local)
			if err != nil {
				t.Fatalf("the other --out target must still be written: %v", err)
			}
			if !bytes.Equal(fallback, want) {
				t.Error("the fallback file is not the full report")
			}
			if fi, err := os.Stat(matches[0]); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("fallback mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
}

func TestSeveralOutputsHoldTheSameReport(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	dir := t.TempDir()
	jsonPath, csvPath := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.csv")
	res := s.run(t, "scan", "-q", "--access", "assume-role", "--out", jsonPath, "--out", csvPath, "--out", "s3://orgscan-reports/multi/r.ndjson")
	if res.code != exitIncomplete {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var doc struct {
		Scan struct {
			Counts map[string]int `json:"counts"`
		} `json:"scan"`
		Accounts []struct {
			ID     string `json:"account_id"`
			Status string `json:"status"`
		} `json:"accounts"`
	}
	data, _ := os.ReadFile(jsonPath)
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, a := range doc.Accounts {
		status[a.ID] = a.Status
	}

	f, _ := os.Open(csvPath)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := records[0]
	idCol, statusCol := slices.Index(header, "account_id"), slices.Index(header, "status")
	csvStatus := map[string]string{}
	for _, rec := range records[1:] {
		csvStatus[rec[idCol]] = rec[statusCol]
	}

	obj, ok := s.srv.Object(reportBucket, "multi/r.ndjson")
	if !ok {
		t.Fatal("no NDJSON object uploaded")
	}
	ndStatus := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(obj.Body)), "\n") {
		var row struct {
			ID     string `json:"account_id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		ndStatus[row.ID] = row.Status
	}
	if len(status) != doc.Scan.Counts["listed"] {
		t.Errorf("JSON holds %d accounts, counts say %d", len(status), doc.Scan.Counts["listed"])
	}
	for name, other := range map[string]map[string]string{"CSV": csvStatus, "NDJSON": ndStatus} {
		if len(other) != len(status) {
			t.Errorf("%s holds %d accounts, JSON %d", name, len(other), len(status))
		}
		for id, st := range status {
			if other[id] != st {
				t.Errorf("%s: account %s is %q, JSON says %q", name, id, other[id], st)
			}
		}
	}
}

func TestBaselineComparesWithTheNewestEarlierReport(t *testing.T) {
	fx := demoWorld(t)
	s := startSim(t, fx, awssim.Options{})
	const prefix = "s3://orgscan-reports/history/"
	day := func(d int) time.Time { return time.Date(2026, 11, d, 6, 0, 0, 0, time.UTC) }
	// Three earlier reports; the newest of them lacks the account with the
	// newest root key, so only that account is new.
	for _, run := range []struct {
		at      time.Time
		exclude string
	}{
		{day(1), ""},
		{day(20), "520384716293"},
		{day(10), ""},
	} {
		s.now = func() time.Time { return run.at }
		args := []string{"scan", "-q", "--out", prefix}
		if run.exclude != "" {
			args = append(args, "--exclude-accounts", run.exclude)
		}
		if res := s.run(t, args...); res.code != exitOK {
			t.Fatalf("earlier scan at %s: exit %d %s", run.at, res.code, res.stderr)
		}
	}
	s.now = func() time.Time { return day(28) }
	getsBefore := s.srv.Stats().Operations["s3:GetObject"].Requests
	res := s.run(t, "scan", "-q", "--log-format", "json", "--out", prefix, "--baseline", prefix, "--fail-on-findings")
	if res.code != exitFindings {
		t.Fatalf("exit %d, want 4 for a new finding: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "orgscan-20261120T060000Z.json") {
		t.Errorf("the baseline must be the newest earlier report (Nov 20):\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "520384716293") {
		t.Errorf("the diff must list the new account:\n%s", res.stderr)
	}
	if gets := s.srv.Stats().Operations["s3:GetObject"].Requests - getsBefore; gets != 1 {
		t.Errorf("%d reports downloaded; the baseline is found by listing, then one is read", gets)
	}

	// The same organization a day later: findings remain, none is new.
	s.now = func() time.Time { return day(29) }
	if res := s.run(t, "scan", "-q", "--out", prefix, "--baseline", prefix, "--fail-on-findings"); res.code != exitOK {
		t.Fatalf("exit %d, want 0 with no new finding against the baseline: %s", res.code, res.stderr)
	}
}
