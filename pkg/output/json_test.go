package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema"
	"github.com/orgscan/orgscan/schema/schematest"
)

func TestJSONReportIsSchemaValid(t *testing.T) {
	schemas := schematest.Compile(t)
	for _, details := range []bool{false, true} {
		name := map[bool]string{false: "without details", true: "with details"}[details]
		t.Run(name+", the report validates and keeps types", func(t *testing.T) {
			out := render(t, FormatJSON, goldenReport(details), Options{})
			if err := schematest.Validate(t, schemas.Report, out); err != nil {
				t.Fatalf("report does not validate: %v", err)
			}
			var doc struct {
				SchemaVersion string           `json:"schema_version"`
				Accounts      []map[string]any `json:"accounts"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if doc.SchemaVersion != SchemaVersion {
				t.Errorf("schema_version %q", doc.SchemaVersion)
			}
			byID := map[string]map[string]any{}
			for _, a := range doc.Accounts {
				byID[a["account_id"].(string)] = a
			}
			for _, u := range []struct{ id, key string }{
				{"444444444444", "root_access_keys"},
				{"444444444444", "root_mfa"},
				{"444444444444", "summary"},
				{"555555555555", "access_method"},
				{"555555555555", "error_code"},
			} {
				if v, ok := byID[u.id][u.key]; !ok || v != nil {
					t.Errorf("account %s: %s = %#v, want null", u.id, u.key, v)
				}
			}
			if v := byID["222222222222"]["root_access_keys"]; v != true {
				t.Errorf("root_access_keys = %#v, want the boolean true", v)
			}
			if v := byID["222222222222"]["summary"].(map[string]any)["Users"]; v != float64(12) {
				t.Errorf("summary Users = %#v, want the number 12", v)
			}
			_, has := byID["222222222222"]["root_credentials"]
			if has != details {
				t.Errorf("root_credentials present = %v, want %v", has, details)
			}
		})
	}
}

// recorder notes what had arrived each time a row was handed over.
type recorder struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Split(strings.TrimSuffix(r.buf.String(), "\n"), "\n")
}

func TestNDJSONStreamsRows(t *testing.T) {
	schemas := schematest.Compile(t)
	for _, tc := range []struct {
		name string
		wrap func(*recorder) io.Writer
	}{
		{"written straight", func(r *recorder) io.Writer { return r }},
		{"written through a buffer, which it flushes", func(r *recorder) io.Writer { return bufio.NewWriter(r) }},
	} {
		t.Run(tc.name+", each row arrives at WriteRow as one schema-valid line", func(t *testing.T) {
			rec := &recorder{}
			w, err := New(FormatNDJSON, tc.wrap(rec), Options{})
			if err != nil {
				t.Fatal(err)
			}
			rep := goldenReport(true)
			streamed := 0
			for i := range rep.Accounts {
				r := &rep.Accounts[i]
				if r.Status == scan.StatusNotScanned {
					continue
				}
				if err := w.WriteRow(r); err != nil {
					t.Fatal(err)
				}
				streamed++
				lines := rec.lines()
				if len(lines) != streamed {
					t.Fatalf("after %d rows, %d lines have arrived", streamed, len(lines))
				}
				last := lines[len(lines)-1]
				if err := schematest.Validate(t, schemas.Row, []byte(last)); err != nil {
					t.Fatalf("line %d does not validate: %v\n%s", streamed, err, last)
				}
				var got scan.Row
				if err := json.Unmarshal([]byte(last), &got); err != nil || got.AccountID != r.AccountID {
					t.Fatalf("line %d is account %q (%v), want %s", streamed, got.AccountID, err, r.AccountID)
				}
			}
			if err := w.WriteRow(&rep.Accounts[0]); err == nil {
				t.Error("a row written twice was accepted")
			}
			if err := w.Close(rep); err != nil {
				t.Fatal(err)
			}
			lines := rec.lines()
			if len(lines) != len(rep.Accounts) {
				t.Fatalf("%d lines after close, want every account once (%d)", len(lines), len(rep.Accounts))
			}
			if !strings.Contains(lines[len(lines)-1], `"666666666666"`) {
				t.Errorf("close did not add the not_scanned row: %s", lines[len(lines)-1])
			}
			if err := w.WriteRow(&rep.Accounts[0]); err == nil {
				t.Error("a row after close was accepted")
			}
		})
	}
}

// The JSON writer streams the document by hand; it must still be exactly
// what encoding/json would write for the whole document.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		rep  *scan.Report
	}{
		{"a full report", goldenReport(true)},
		{"an organization with no accounts", &scan.Report{Scan: goldenReport(false).Scan}},
	} {
		t.Run(tc.name+" is written as encoding/json would", func(t *testing.T) {
			want, err := json.MarshalIndent(newDocument(tc.rep), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got := render(t, FormatJSON, tc.rep, Options{})
			if string(got) != string(want)+"\n" {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// The published schema describes the envelope the writer defines: the
// same keys and the same schema_version, so that neither can change alone.
func TestThePublishedSchemaDescribesTheEnvelope(t *testing.T) {
	raw, err := fs.ReadFile(schema.FS(), schema.ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	var published struct {
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &published); err != nil {
		t.Fatalf("parse %s: %v", schema.ReportFile, err)
	}
	var version struct {
		Const string `json:"const"`
	}
	if err := json.Unmarshal(published.Properties["schema_version"], &version); err != nil {
		t.Fatalf("parse the schema_version of %s: %v", schema.ReportFile, err)
	}
	var written map[string]json.RawMessage
	if err := json.Unmarshal(render(t, FormatJSON, &scan.Report{}, Options{}), &written); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want []string
	}{
		{"the schema_version const is SchemaVersion", []string{version.Const}, []string{SchemaVersion}},
		{"the schema's properties are the document's keys", slices.Sorted(maps.Keys(published.Properties)), slices.Sorted(maps.Keys(written))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !slices.Equal(tc.got, tc.want) {
				t.Errorf("%s has %q, the writer %q", schema.ReportFile, tc.got, tc.want)
			}
		})
	}
}
