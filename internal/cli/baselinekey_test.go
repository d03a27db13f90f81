package cli

import (
	"testing"
	"time"

	"github.com/orgscan/orgscan/internal/sink"
	"github.com/orgscan/orgscan/pkg/output"
)

// A baseline is looked for where an upload to a prefix puts reports, by the
// one key layout both use.
func TestBaselineKeysFollowTheUploadLayout(t *testing.T) {
	started := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	uploaded := func(format string) string {
		return sink.ReportKey{Prefix: "audits/", OrgID: "o-7fk2mq9x4a", Started: started, Ext: output.Extension(format)}.String()
	}
	for _, tc := range []struct {
		name, key string
		ok        bool
	}{
		{"a JSON report uploaded to the prefix qualifies", uploaded(output.FormatJSON), true},
		{"an NDJSON report uploaded to the prefix qualifies", uploaded(output.FormatNDJSON), true},
		{"a .jsonl copy qualifies, as diff reads it", "audits/org=o-7fk2mq9x4a/date=2026-11-30/orgscan-20261130T060000Z.jsonl", true},
		{"a CSV report does not qualify: diff cannot read it", uploaded(output.FormatCSV), false},
		{"an HTML report does not qualify", uploaded(output.FormatHTML), false},
		{"an OCSF report does not qualify: it holds findings, not accounts", uploaded(output.FormatOCSF), false},
		{"an OCSF NDJSON report does not qualify", uploaded(output.FormatOCSFNDJSON), false},
		{"a report outside the date partition does not qualify", "audits/org=o-7fk2mq9x4a/orgscan-20261130T060000Z.json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := baselineKey(tc.key)
			if ok != tc.ok {
				t.Fatalf("baselineKey(%q) ok = %v, want %v", tc.key, ok, tc.ok)
			}
			if ok && (!k.Started.Equal(started) || k.OrgID != "o-7fk2mq9x4a" || k.Prefix != "audits/") {
				t.Errorf("baselineKey(%q) = %+v", tc.key, k)
			}
		})
	}
}
