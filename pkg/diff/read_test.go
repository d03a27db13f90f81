package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/orgscan/orgscan/pkg/scan"
)

func sampleRows() []scan.Row {
	return []scan.Row{
		acct("111111111111", "Management", "Root"),
		acct("222222222222", "Prod", "Root/Workloads/Prod", scan.FindingRootAccessKey, scan.FindingRootNoMFA),
		failed(acct("333333333333", "Sandbox", "Root/Sandbox"), scan.CodeAccessDenied, "denied"),
		suspended(acct("444444444444", "Closing", "Root")),
	}
}

func TestReadDetectsTheFormatFromTheContent(t *testing.T) {
	rows := sampleRows()
	indented := jsonReport(t, q1, rows, true)
	compact := jsonReport(t, q1, rows, false)
	ndjson := ndjsonReport(t, rows)

	tests := []struct {
		name       string
		input      []byte
		wantFormat string
	}{
		{"an indented JSON report is read as JSON", indented, FormatJSON},
		{"a one-line JSON report is read as JSON", compact, FormatJSON},
		{"a JSON report after blank lines and a byte order mark is read as JSON",
			append([]byte("\xEF\xBB\xBF \n\r\n\t"), indented...), FormatJSON},
		{"a JSON report whose keys were sorted (jq -S) is read as JSON",
			sortedKeys(t, compact), FormatJSON},
		{"a JSON report without a final newline is read as JSON", bytes.TrimSpace(compact), FormatJSON},
		{"NDJSON rows are read as NDJSON", ndjson, FormatNDJSON},
		{"NDJSON with CRLF line ends, blank lines and no final newline is read as NDJSON",
			[]byte("\r\n" + strings.ReplaceAll(string(bytes.TrimSpace(ndjson)), "\n", "\r\n\r\n  \r\n")), FormatNDJSON},
		{"NDJSON of a single row is read as NDJSON", ndjsonReport(t, rows[:1]), FormatNDJSON},
		{"NDJSON rows that carry schema_version 1 are read as NDJSON",
			bytes.ReplaceAll(ndjson, []byte(`{"account_id"`), []byte(`{"schema_version":"1","account_id"`)), FormatNDJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// One byte at a time, so that detection cannot rely on a
			// single Read returning everything.
			doc, err := Read(iotest.OneByteReader(bytes.NewReader(tt.input)))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.Format != tt.wantFormat {
				t.Errorf("format = %q, want %q", doc.Format, tt.wantFormat)
			}
			if (doc.Scan != nil) != (tt.wantFormat == FormatJSON) {
				t.Errorf("scan block present = %v for %s", doc.Scan != nil, tt.wantFormat)
			}
			if tt.wantFormat == FormatJSON && doc.SchemaVersion != "1" {
				t.Errorf("schema version = %q, want 1", doc.SchemaVersion)
			}
			if tt.wantFormat == FormatNDJSON && doc.SchemaVersion != "" {
				t.Errorf("NDJSON schema version = %q, want empty", doc.SchemaVersion)
			}
			want := rows
			if len(doc.Rows) == 1 {
				want = rows[:1]
			}
			if got := ids(doc.Rows); !reflect.DeepEqual(got, ids(want)) {
				t.Errorf("account ids = %v, want %v", got, ids(want))
			}
		})
	}
}

func TestReadGivesTheSameRowsFromJSONAndNDJSON(t *testing.T) {
	rows := sampleRows()
	j := mustRead(t, jsonReport(t, q1, rows, true), "json")
	n := mustRead(t, ndjsonReport(t, rows), "ndjson")
	if !reflect.DeepEqual(j.Rows, n.Rows) {
		t.Fatalf("rows differ between formats:\njson:   %+v\nndjson: %+v", j.Rows, n.Rows)
	}
	if j.Scan == nil || j.Scan.OrganizationID != "o-abcd1234ef" || j.Scan.Counts.Listed != len(rows) {
		t.Errorf("scan block not read: %+v", j.Scan)
	}
	if d := Compare(j, n); d.hasChanges() || d.Counts.Unchanged != len(rows) {
		t.Errorf("the same report in two formats differs: %+v", d.Counts)
	}
	r := j.Rows[1]
	if keys, _ := r.Summary.Get("AccountAccessKeysPresent"); r.RootAccessKeys == nil || !*r.RootAccessKeys || len(r.Findings) != 2 || keys != 1 {
		t.Errorf("row fields not read: %+v", r)
	}
}

func TestReadRefusesWhatItCannotReadFaithfully(t *testing.T) {
	rows := sampleRows()
	compact := string(jsonReport(t, q1, rows, false))
	indented := string(jsonReport(t, q1, rows, true))
	nd := strings.Split(strings.TrimSpace(string(ndjsonReport(t, rows))), "\n")
	row0, row1 := nd[0], nd[1]

	tests := []struct {
		name    string
		input   string
		reader  reader
		wantErr []string // substrings, all required
	}{
		{"empty input is refused", "", reader{}, []string{"empty input"}},
		{"white space only is refused", " \n\t\r\n", reader{}, []string{"empty input"}},
		{"a JSON array is refused", "\n[" + row0 + "]", reader{}, []string{"line 2", "expected a JSON object", "array"}},
		{"CSV is refused with a hint", "account_id,account_name\n111111111111,x\n", reader{}, []string{"line 1", "CSV"}},
		{"a newer schema version is refused, naming both versions",
			strings.Replace(compact, `"schema_version":"1"`, `"schema_version":"2"`, 1), reader{},
			[]string{`schema_version "2"`, `reads schema_version "1" only`}},
		{"an older schema version is refused", strings.Replace(indented, `"schema_version": "1"`, `"schema_version": "0.9"`, 1), reader{},
			[]string{`schema_version "0.9"`}},
		{"an NDJSON row of a newer schema version is refused",
			row0 + "\n" + strings.Replace(row1, `{`, `{"schema_version":"2",`, 1) + "\n", reader{},
			[]string{"line 2", `schema_version "2"`}},
		{"a numeric schema version is refused", strings.Replace(indented, `"schema_version": "1"`, `"schema_version": 1`, 1), reader{},
			[]string{"line 2", "schema_version must be a string"}},
		{"a report without a scan block is refused", `{"schema_version":"1","accounts":[]}`, reader{}, []string{"no scan block"}},
		{"a report without accounts is refused", `{"schema_version":"1","scan":{}}`, reader{}, []string{"no accounts"}},
		{"a report whose accounts are not a list is refused", `{"schema_version":"1","scan":{},"accounts":{}}`, reader{}, []string{"accounts must be a list"}},
		{"a report whose scan block has the wrong types is refused",
			"{\"schema_version\":\"1\",\n\"scan\":{\n\"started_at\":\"yesterday\"},\"accounts\":[]}", reader{}, []string{"line 2", "scan block"}},
		{"a key given twice is refused", `{"schema_version":"1","scan":{},"accounts":[],"accounts":[]}`, reader{}, []string{`key "accounts" appears twice`}},
		{"an object that is neither a report nor a row is refused", `{"hello":"world"}`, reader{}, []string{"line 1", "neither"}},
		{"a diff document is refused as a report", `{"schema_version":"1","old":{},"new":{},"counts":{},"changes":[]}` + "\n", reader{},
			[]string{"line 1", "this is an orgscan diff"}},
		{"two numbers apart are not read as one", `{"schema_version":"1","scan":{"x":1 2},"accounts":[]}`, reader{}, []string{"line 1", "invalid JSON"}},
		{"a literal split by white space is refused",
			strings.Replace(row0, `"findings":[]`, "\"findings\":[],\"n\":tr  ue", 1), reader{}, []string{"line 1", "invalid JSON"}},
		{"a diff document that says what it is", `{"old":{},"new":{},"counts":{},"changes":[]}`, reader{}, []string{"this is an orgscan diff"}},
		{"a diff document larger than the line limit is still named a diff",
			`{"old":{},"new":{},"counts":{},"changes":[` + strings.Repeat(`{"account_id":"111111111111","kinds":["new-findings"]},`, 40000) + `{}]}`, reader{},
			[]string{"line 1: this is an orgscan diff"}},
		{"an account listed twice in a JSON report is refused, naming both lines",
			strings.Replace(indented, `"account_id": "222222222222"`, `"account_id": "111111111111"`, 1), reader{},
			[]string{"account 111111111111 is listed twice", "first on line"}},
		{"an account listed twice in NDJSON is refused, naming both lines",
			row0 + "\n" + row1 + "\n\n" + row0 + "\n", reader{}, []string{"line 4", "account 111111111111 is listed twice (first on line 1)"}},
		{"malformed NDJSON names its line", row0 + "\n" + row1 + "\n{\"account_id\": \n", reader{}, []string{"line 3", "invalid JSON"}},
		{"an NDJSON line holding two rows is refused", row0 + "\n" + row1 + row0 + "\n", reader{}, []string{"line 2"}},
		{"data after the first NDJSON row on its line is refused", row0 + " x\n" + row1 + "\n", reader{}, []string{"line 1", "unexpected data after the account row"}},
		{"an NDJSON line that is a report is refused", row0 + "\n" + compact, reader{}, []string{"line 2", "no account_id"}},
		{"an NDJSON row spread over several lines is refused", strings.Replace(row0, ",", ",\n", 1) + "\n", reader{}, []string{"line 1", "spans several lines"}},
		{"malformed JSON names its line", strings.Replace(indented, `"organization_id"`, `"organization_id" "`, 1), reader{}, []string{"line 4", "invalid JSON"}},
		{"a truncated JSON report is refused", indented[:len(indented)/2], reader{}, []string{"input ends inside a JSON value"}},
		{"two concatenated JSON reports are refused", compact + compact, reader{}, []string{"line 2", "unexpected data after the report that ends on line 1"}},
		{"an account id that is not 12 digits is refused",
			strings.Replace(indented, `"account_id": "333333333333"`, `"account_id": "3333"`, 1), reader{},
			[]string{"account 3", `account_id "3333" is not a 12-digit AWS account id`}},
		{"a row without an account id is refused", row0 + "\n{\"account_name\":\"x\"}\n", reader{}, []string{"line 2", "no account_id"}},
		{"an unknown status is refused", strings.Replace(row0, `"status":"ok"`, `"status":"fine"`, 1), reader{}, []string{"line 1", `status "fine"`}},
		{"a row of the wrong type is refused", `{"schema_version":"1","scan":{},"accounts":[1]}`, reader{}, []string{"account 1", "expected an account object"}},
		{"a field of the wrong type names the field", strings.Replace(row0, `"findings":[]`, `"findings":"none"`, 1), reader{}, []string{"line 1", "findings"}},
		{"an empty finding is refused", strings.Replace(row0, `"findings":[]`, `"findings":[""]`, 1), reader{}, []string{"empty name"}},
		{"an NDJSON line over the limit is refused", row0 + "\n" + row1 + "\n", reader{MaxLineBytes: len(row0) + 10},
			[]string{"line 2: longer than"}},
		{"a first NDJSON line over the limit is refused", row0 + "\n", reader{MaxLineBytes: 100}, []string{"line 1: longer than 100 bytes"}},
		{"an input over the limit is refused", indented, reader{MaxBytes: 1000}, []string{"input larger than 1000 bytes"}},
		{"an NDJSON input over the limit is refused", strings.Join(nd, "\n"), reader{MaxBytes: int64(len(row0) + len(row1) + 5)},
			[]string{"input larger than"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := tt.reader.Read(strings.NewReader(tt.input))
			if err == nil {
				t.Fatalf("Read succeeded with %d rows, want an error containing %q", len(doc.Rows), tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestReadReturnsTypedErrors(t *testing.T) {
	t.Run("a schema version refusal is an UnsupportedSchemaError", func(t *testing.T) {
		_, err := Read(strings.NewReader(`{"schema_version":"2","scan":{},"accounts":[{"account_id":"x"}]}`))
		var se *UnsupportedSchemaError
		if !errors.As(err, &se) || se.Version != "2" {
			t.Fatalf("error = %v, want an UnsupportedSchemaError for version 2", err)
		}
	})
	t.Run("an input that is too large is a TooLargeError", func(t *testing.T) {
		_, err := reader{MaxBytes: 10}.Read(strings.NewReader(`{"schema_version":"1","scan":{},"accounts":[]}`))
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Limit != 10 || tl.Line != 0 {
			t.Fatalf("error = %v, want a TooLargeError with limit 10", err)
		}
	})
	t.Run("an input of exactly the limit is read", func(t *testing.T) {
		in := `{"schema_version":"1","scan":{},"accounts":[]}`
		if _, err := (reader{MaxBytes: int64(len(in))}).Read(strings.NewReader(in)); err != nil {
			t.Fatalf("Read at the limit: %v", err)
		}
	})
	t.Run("a failing reader's error is passed on", func(t *testing.T) {
		boom := errors.New("connection reset")
		in := io.MultiReader(strings.NewReader(`{"schema_version":"1",`), iotest.ErrReader(boom))
		if _, err := Read(in); !errors.Is(err, boom) {
			t.Fatalf("error = %v, want it to wrap %v", err, boom)
		}
	})
	t.Run("a failing reader's error in NDJSON is passed on", func(t *testing.T) {
		boom := errors.New("connection reset")
		row := string(ndjsonReport(t, sampleRows()[:1]))
		in := io.MultiReader(strings.NewReader(row), iotest.ErrReader(boom))
		if _, err := Read(in); !errors.Is(err, boom) {
			t.Fatalf("error = %v, want it to wrap %v", err, boom)
		}
	})
}

func TestReadStreamsLargeNDJSON(t *testing.T) {
	// The line limit applies per line, not to the whole input, which here
	// is a thousand times larger.
	rows := make([]scan.Row, 2000)
	for i := range rows {
		rows[i] = acct(idOf(i), "a", "Root", scan.FindingRootNoMFA)
	}
	input := ndjsonReport(t, rows)
	doc, err := reader{MaxLineBytes: 2048}.Read(bytes.NewReader(input))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if len(doc.Rows) != len(rows) {
		t.Fatalf("read %d rows, want %d", len(doc.Rows), len(rows))
	}
}

func idOf(i int) string { return fmt.Sprintf("%012d", i) }

func ids(rows []scan.Row) []string {
	out := make([]string, len(rows))
	for i := range rows {
		out[i] = rows[i].AccountID
	}
	return out
}

// sortedKeys re-encodes a JSON document with its keys sorted, as jq -S
// does, so that accounts comes before schema_version.
func sortedKeys(t *testing.T, b []byte) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode: %v", err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	if !bytes.HasPrefix(out, []byte(`{"accounts"`)) {
		t.Fatalf("keys not sorted: %.40s", out)
	}
	return out
}

// repeated streams a byte n times without holding them.
type repeated struct {
	c byte
	n int64
}

func (r *repeated) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), r.n))
	for i := range p[:k] {
		p[i] = r.c
	}
	r.n -= int64(k)
	return k, nil
}

// TestReadMemoryFollowsTheRowsKept feeds Read the review's hostile inputs,
// 64 MiB each and streamed: however much white space or however long a
// line, what Read allocates stays within a small multiple of the rows it
// keeps (here, at most two) plus its fixed buffers.
func TestReadMemoryFollowsTheRowsKept(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures under the race detector measure the detector; .ci/run runs this test without it")
	}
	const hostile = 64 << 20
	rows := sampleRows()[:2]
	nd := strings.Split(strings.TrimSpace(string(ndjsonReport(t, rows))), "\n")
	report := string(jsonReport(t, q1, rows, false))
	head, tail, _ := strings.Cut(report, `"accounts":[`)
	head += `"accounts":[`
	tests := []struct {
		name    string
		input   func() io.Reader
		wantErr string // empty: read, keeping the two rows
	}{
		{"newlines between a report's accounts", func() io.Reader {
			return io.MultiReader(strings.NewReader(head), &repeated{'\n', hostile}, strings.NewReader(tail))
		}, ""},
		{"spaces between a report's accounts", func() io.Reader {
			return io.MultiReader(strings.NewReader(head), &repeated{' ', hostile}, strings.NewReader(tail))
		}, ""},
		{"newlines between NDJSON rows", func() io.Reader {
			return io.MultiReader(strings.NewReader(nd[0]), &repeated{'\n', hostile}, strings.NewReader(nd[1]))
		}, ""},
		{"newlines before a report", func() io.Reader {
			return io.MultiReader(&repeated{'\n', hostile}, strings.NewReader(report))
		}, ""},
		{"a single NDJSON line", func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"account_id":"111111111111","account_name":"`), &repeated{'a', hostile}, strings.NewReader(`"}`+"\n"))
		}, "line 1: longer than"},
		{"a single NDJSON line of spaces", func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"account_id":"111111111111",`), &repeated{' ', hostile}, strings.NewReader(`"status":"ok"}`+"\n"))
		}, "line 1: longer than"},
		{"a second NDJSON line", func() io.Reader {
			return io.MultiReader(strings.NewReader(nd[0]+"\n"+`{"account_id":"222222222222","account_name":"`), &repeated{'a', hostile}, strings.NewReader(`"}`+"\n"))
		}, "line 2: longer than"},
		{"a long value in a report's account", func() io.Reader {
			return io.MultiReader(strings.NewReader(head+`{"account_id":"111111111111","note":"`), &repeated{'a', hostile}, strings.NewReader(`"}]}`))
		}, "account 1 is longer than"},
		{"a long value beside a report's accounts", func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"schema_version":"1","padding":"`), &repeated{'a', hostile}, strings.NewReader(`"}`))
		}, `the value of "padding" is longer than`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			doc, err := Read(tt.input())
			runtime.ReadMemStats(&after)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Read: %v", err)
			case tt.wantErr == "" && len(doc.Rows) != len(rows):
				t.Fatalf("read %d rows, want %d", len(doc.Rows), len(rows))
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("64 MiB input: %.2f MiB allocated in all, heap in use %.2f MiB after", float64(allocated)/(1<<20), float64(after.HeapInuse)/(1<<20))
			// Besides the rows, Read holds at most one value up to the line
			// limit: the JSON decoder's buffer doubles on the way to it,
			// and the first object's copy (its row, if it is NDJSON) does
			// too. That is a fixed cost, whatever the input's size.
			if limit := uint64(8 * defaultMaxLineBytes); allocated > limit {
				t.Errorf("Read allocated %d bytes for at most two rows, more than %d", allocated, limit)
			}
		})
	}
}

// manyRows is an organization of n accounts, a third of them with findings.
func manyRows(n int) []scan.Row {
	rows := make([]scan.Row, n)
	for i := range rows {
		rows[i] = acct(idOf(i), fmt.Sprintf("account-%d", i), "Root/Workloads/Prod")
		if i%3 == 0 {
			rows[i] = acct(idOf(i), fmt.Sprintf("account-%d", i), "Root/Sandbox", scan.FindingRootNoMFA)
		}
	}
	return rows
}

// TestReadMemoryOfAWholeReportFollowsItsRows: an indented JSON report of
// many accounts costs no more than twice the same rows as NDJSON, which
// is read a line at a time; neither holds the document whole.
func TestReadMemoryOfAWholeReportFollowsItsRows(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation figures under the race detector measure the detector; .ci/run runs this test without it")
	}
	rows := manyRows(20000)
	allocated := func(input []byte) uint64 {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		doc, err := Read(bytes.NewReader(input))
		runtime.ReadMemStats(&after)
		if err != nil || len(doc.Rows) != len(rows) {
			t.Fatalf("Read: %v", err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	indented := jsonReport(t, q1, rows, true)
	nd := ndjsonReport(t, rows)
	j, n := allocated(indented), allocated(nd)
	t.Logf("%d rows: %.1f MiB of indented JSON, %.1f MiB allocated; %.1f MiB of NDJSON, %.1f MiB allocated",
		len(rows), float64(len(indented))/(1<<20), float64(j)/(1<<20), float64(len(nd))/(1<<20), float64(n)/(1<<20))
	if j > 2*n {
		t.Errorf("the JSON report took %d bytes, more than twice the %d of its NDJSON form", j, n)
	}
}

func BenchmarkReadIndentedReport(b *testing.B) {
	input := jsonReport(b, q1, manyRows(5000), true)
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(input)); err != nil {
			b.Fatal(err)
		}
	}
}
