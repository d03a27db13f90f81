package cli

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/awssim"
)

// ocsfEventLine is what these tests read of a Detection Finding.
type ocsfEventLine struct {
	ActivityID  int `json:"activity_id"`
	StatusID    int `json:"status_id"`
	FindingInfo struct {
		UID          string   `json:"uid"`
		Types        []string `json:"types"`
		LastSeenTime int64    `json:"last_seen_time"`
	} `json:"finding_info"`
	Cloud struct {
		Account struct {
			UID string `json:"uid"`
		} `json:"account"`
		Org struct {
			UID string `json:"uid"`
		} `json:"org"`
	} `json:"cloud"`
}

func readOCSFLines(t *testing.T, text string) []ocsfEventLine {
	t.Helper()
	var events []ocsfEventLine
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e ocsfEventLine
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not an OCSF event line: %v\n%s", err, sc.Text())
		}
		events = append(events, e)
	}
	return events
}

// The streaming OCSF format streams to stdout and to files alike, every
// event carrying the organization it got from the scan's start.
func TestOCSFNDJSONStreamsToStdoutAndFiles(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	file := filepath.Join(t.TempDir(), "findings.ocsf.ndjson")
	res := s.run(t, "scan", "-q", "-f", "ocsf-ndjson", "--out", "-", "--out", file)
	if res.code != exitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != res.stdout {
		t.Errorf("the file and stdout differ")
	}
	events := readOCSFLines(t, res.stdout)
	if len(events) == 0 {
		t.Fatal("no events")
	}
	for _, e := range events {
		if e.Cloud.Org.UID != "o-7fk2mq9x4a" || e.ActivityID != 1 || e.StatusID != 1 {
			t.Errorf("event %+v: want the demo organization, activity Create, status New", e)
		}
	}
}

// A finding the baseline had and this scan no longer sees is closed, under
// the uid it was created with, so that a SIEM can close its copy.
func TestOCSFClosesTheFindingsTheBaselineHad(t *testing.T) {
	s := startSim(t, demoWorld(t), awssim.Options{})
	const prefix = "s3://orgscan-reports/ocsf/"
	first := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return first }
	if res := s.run(t, "scan", "-q", "--out", prefix); res.code != exitOK {
		t.Fatalf("first scan: exit %d: %s", res.code, res.stderr)
	}
	before := s.run(t, "scan", "-q", "-f", "ocsf-ndjson")
	if before.code != exitOK {
		t.Fatalf("first scan in OCSF: exit %d: %s", before.code, before.stderr)
	}
	var uid string
	for _, e := range readOCSFLines(t, before.stdout) {
		if e.Cloud.Account.UID == "520384716293" && len(e.FindingInfo.Types) > 0 && e.FindingInfo.Types[0] == "root-access-key" {
			uid = e.FindingInfo.UID
		}
	}
	if uid == "" {
		t.Fatalf("the first scan has no root-access-key event for payments-prod")
	}

	s.srv.ChangeRootUser("520384716293", func(u *awssim.RootUser) { u.AccessKeys = nil })
	s.now = func() time.Time { return first.Add(24 * time.Hour) }
	file := filepath.Join(t.TempDir(), "after.ocsf.ndjson")
	after := s.run(t, "scan", "-q", "--baseline", prefix, "-f", "ocsf-ndjson", "--out", "-", "--out", file)
	if after.code != exitOK {
		t.Fatalf("second scan: exit %d: %s", after.code, after.stderr)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != after.stdout {
		t.Errorf("the file and stdout differ")
	}
	closed := 0
	for _, e := range readOCSFLines(t, after.stdout) {
		if e.FindingInfo.UID != uid {
			continue
		}
		if e.ActivityID != 3 || e.StatusID != 4 {
			t.Errorf("the key's event after it was deleted: activity %d status %d, want 3 (Close) and 4 (Resolved)", e.ActivityID, e.StatusID)
		}
		if e.FindingInfo.LastSeenTime == 0 {
			t.Errorf("the closing event does not say when the baseline last saw the finding")
		}
		closed++
	}
	if closed != 1 {
		t.Errorf("%d events with the key finding's uid %s, want one closing event", closed, uid)
	}
}
