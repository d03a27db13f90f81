package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

func TestFormatHelpers(t *testing.T) {
	for _, tc := range []struct {
		path   string
		format string
		ok     bool
	}{
		{"report.json", FormatJSON, true},
		{"out/REPORT.JSON", FormatJSON, true},
		{"rows.ndjson", FormatNDJSON, true},
		{"rows.jsonl", FormatNDJSON, true},
		{"audit.csv", FormatCSV, true},
		{"audit.txt", FormatTable, true},
		{"audit.xlsx", "", false},
		{"report", "", false},
	} {
		t.Run(tc.path+" maps to "+tc.format, func(t *testing.T) {
			got, ok := FormatFromExtension(tc.path)
			if got != tc.format || ok != tc.ok {
				t.Errorf("FormatFromExtension(%q) = %q, %v; want %q, %v", tc.path, got, ok, tc.format, tc.ok)
			}
		})
	}
	t.Run("every format has a writer, an extension that maps back, and a content type", func(t *testing.T) {
		for _, f := range Formats() {
			if _, err := New(f, &bytes.Buffer{}, Options{}); err != nil {
				t.Errorf("New(%q): %v", f, err)
			}
			if back, ok := FormatFromExtension("x" + Extension(f)); !ok || back != f {
				t.Errorf("Extension(%q) = %q maps back to %q", f, Extension(f), back)
			}
			if ContentType(f) == "" {
				t.Errorf("ContentType(%q) is empty", f)
			}
		}
	})
	t.Run("an unknown format is refused with the list of formats", func(t *testing.T) {
		_, err := New("xml", &bytes.Buffer{}, Options{})
		if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "table, csv, json, ndjson") {
			t.Errorf("New(xml) error = %v", err)
		}
		if Extension("xml") != "" || ContentType("xml") != "" {
			t.Error("unknown format has an extension or content type")
		}
	})
}

func TestWritersCloseOnce(t *testing.T) {
	for _, f := range Formats() {
		t.Run(f+" refuses a nil report and a second close", func(t *testing.T) {
			w, err := New(f, &bytes.Buffer{}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Close(nil); err == nil {
				t.Error("Close(nil) succeeded")
			}
			if err := w.Close(goldenReport(false)); err == nil {
				t.Error("second Close succeeded")
			}
		})
	}
}

// accountOrder extracts the account ids in the order a format lists them.
func accountOrder(t *testing.T, format string, out []byte) []string {
	t.Helper()
	var ids []string
	switch format {
	case FormatJSON:
		var doc struct{ Accounts []scan.Row }
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		for _, r := range doc.Accounts {
			ids = append(ids, r.AccountID)
		}
	case FormatCSV:
		recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			ids = append(ids, r[0])
		}
	case FormatTable:
		for _, line := range strings.Split(string(out), "\n")[1:] {
			if line == "" {
				break
			}
			ids = append(ids, strings.Fields(line)[0])
		}
	}
	return ids
}

func TestBufferedFormatsSortByAccountID(t *testing.T) {
	rep := goldenReport(true)
	want := make([]string, len(rep.Accounts))
	for i := range rep.Accounts {
		want[i] = rep.Accounts[i].AccountID
	}
	slices.Sort(want)
	if slices.IsSorted(func() []string {
		var in []string
		for i := range rep.Accounts {
			in = append(in, rep.Accounts[i].AccountID)
		}
		return in
	}()) {
		t.Fatal("the input is already sorted: the test would prove nothing")
	}
	for _, f := range []string{FormatTable, FormatCSV, FormatJSON} {
		t.Run(f+" lists accounts by id and leaves the report's order alone", func(t *testing.T) {
			before := rep.Accounts[0].AccountID
			got := accountOrder(t, f, render(t, f, rep, Options{Details: true}))
			if !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
			if rep.Accounts[0].AccountID != before {
				t.Error("the writer reordered the caller's rows")
			}
		})
	}
}
