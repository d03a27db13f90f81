package remediate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
)

// FuzzReadPlan: whatever the file, ReadPlan returns a plan or a typed
// refusal, never panics; a plan it accepts is intact, and reads back
// identically once written again.
func FuzzReadPlan(f *testing.F) {
	f.Add(encode(f, samplePlan()))
	f.Add([]byte(`{"schema_version":"1","kind":"orgscan-remediation","remediation":{"mode":"plan"},"accounts":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := remediate.ReadPlan(bytes.NewReader(data))
		if err != nil {
			var se *scan.Error
			if p != nil || !errors.As(err, &se) || se.Stage != remediate.StagePlan {
				t.Fatalf("plan %v, error %v: want no plan and a *scan.Error at the plan stage", p != nil, err)
			}
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := remediate.ReadPlan(bytes.NewReader(again))
		if err != nil {
			t.Fatalf("an accepted plan, written again, is refused: %v", err)
		}
		if d, err := q.Digest(); err != nil || d != p.Remediation.Plan.Digest {
			t.Fatalf("digest %s, %v; want %s", d, err, p.Remediation.Plan.Digest)
		}
		if err := remediate.CheckPlan(p, p.Remediation.OrganizationID, p.Remediation.Plan.CreatedAt, 0); err != nil {
			t.Fatalf("an accepted plan fails CheckPlan for its own organization and time: %v", err)
		}
	})
}
