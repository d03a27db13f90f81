package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// ocsfFormats are the two OCSF formats, which carry the same events.
var ocsfFormats = []string{FormatOCSF, FormatOCSFNDJSON}

// newerFinding is a finding id this version does not define, as a report
// from a newer orgscan could hold.
const newerFinding = "root-from-a-newer-orgscan"

// ocsfReport is the golden report with findings on the hostile account
// and a finding this version does not define, so that escaping and the
// Unknown severity show in the golden files.
func ocsfReport() *scan.Report {
	rep := goldenReport(true)
	for i := range rep.Accounts {
		switch r := &rep.Accounts[i]; r.AccountID {
		case "333333333333":
			r.Findings = []string{scan.FindingRootNoMFA}
		case "777777777777":
			r.Findings = []string{newerFinding}
		}
	}
	rep.Scan.Counts = scan.Count(rep.Accounts)
	return rep
}

// ocsfResolved are findings a baseline had: one of an account in the
// report, one of an account the report does not hold.
func ocsfResolved() []ResolvedFinding {
	return []ResolvedFinding{
		{AccountID: "111111111111", Finding: scan.FindingRootAccessKey, LastSeen: t0.Add(-7 * 24 * time.Hour)},
		{AccountID: "888888888888", Finding: scan.FindingRootNoMFA},
	}
}

// ocsfParse reads the events of either OCSF format, numbers kept as
// json.Number so that their types can be checked.
func ocsfParse(t *testing.T, format string, out []byte) []map[string]any {
	t.Helper()
	decode := func(b []byte, v any) {
		t.Helper()
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(v); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, b)
		}
		if d.More() {
			t.Fatalf("%s: more than one JSON value in %q", format, b)
		}
	}
	var events []map[string]any
	switch format {
	case FormatOCSF:
		decode(out, &events)
		if events == nil {
			t.Fatalf("%s: not an array: %s", format, out)
		}
	case FormatOCSFNDJSON:
		if len(out) == 0 {
			return nil
		}
		for i, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			var e map[string]any
			decode([]byte(line), &e)
			if e == nil {
				t.Fatalf("line %d is not an object: %s", i+1, line)
			}
			events = append(events, e)
		}
	default:
		t.Fatalf("not an OCSF format: %s", format)
	}
	return events
}

// get reads a dotted path of objects ("cloud.account.uid"); nil when any
// part is missing.
func get(e map[string]any, path string) any {
	var v any = e
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(e map[string]any, path string) string { s, _ := get(e, path).(string); return s }

func num(e map[string]any, path string) int64 {
	n, ok := get(e, path).(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}

func findingOf(e map[string]any) string {
	types, _ := get(e, "finding_info.types").([]any)
	if len(types) != 1 {
		return ""
	}
	s, _ := types[0].(string)
	return s
}

func TestOCSFGoldenFiles(t *testing.T) {
	for _, f := range ocsfFormats {
		t.Run(f+" matches its golden file", func(t *testing.T) {
			checkGolden(t, f, render(t, f, ocsfReport(), Options{Resolved: ocsfResolved(), Now: fixedAt}))
		})
	}
}

func TestOCSFReportsEveryFindingOnceWithAStableUID(t *testing.T) {
	rep := ocsfReport()
	for _, f := range ocsfFormats {
		t.Run(f+" has one created event per finding of each account, and nothing else", func(t *testing.T) {
			events := ocsfParse(t, f, render(t, f, rep, Options{}))
			seen := map[string]int{}
			for _, e := range events {
				if num(e, "activity_id") != ocsfActivityCreate {
					t.Errorf("event %s is not a Create", str(e, "finding_info.uid"))
				}
				seen[str(e, "cloud.account.uid")+" "+findingOf(e)]++
			}
			want := 0
			for i := range rep.Accounts {
				r := &rep.Accounts[i]
				for _, finding := range r.Findings {
					want++
					if n := seen[r.AccountID+" "+finding]; n != 1 {
						t.Errorf("account %s, finding %s: %d events, want 1", r.AccountID, finding, n)
					}
				}
			}
			if want == 0 || len(events) != want {
				t.Errorf("%d events for %d findings", len(events), want)
			}
		})
	}
	t.Run("rendering twice gives the same bytes", func(t *testing.T) {
		for _, f := range ocsfFormats {
			a, b := render(t, f, ocsfReport(), Options{}), render(t, f, ocsfReport(), Options{})
			if !bytes.Equal(a, b) {
				t.Errorf("%s differs between two renderings of one report", f)
			}
		}
	})

	uids := func(t *testing.T, rep *scan.Report) (finding, event map[string]string) {
		t.Helper()
		finding, event = map[string]string{}, map[string]string{}
		for _, e := range ocsfParse(t, FormatOCSF, render(t, FormatOCSF, rep, Options{})) {
			k := str(e, "cloud.account.uid") + " " + findingOf(e)
			finding[k], event[k] = str(e, "finding_info.uid"), str(e, "metadata.uid")
		}
		return finding, event
	}
	first, firstEvents := uids(t, ocsfReport())
	later := ocsfReport()
	later.Scan.StartedAt = later.Scan.StartedAt.Add(24 * time.Hour)
	later.Scan.OrganizationID = "o-zzzzzzzzzz"
	later.Scan.Version = "9.9.9"
	laterUIDs, laterEvents := uids(t, later)
	t.Run("a later scan, after a move to another organization, keeps each finding's uid and gives new event uids", func(t *testing.T) {
		if !maps.Equal(first, laterUIDs) {
			t.Errorf("finding uids changed:\n%v\n%v", first, laterUIDs)
		}
		for k, u := range firstEvents {
			if laterEvents[k] == u {
				t.Errorf("%s: the event uid %s is the same in two scans", k, u)
			}
		}
	})
	t.Run("uids are UUIDs, distinct per account and finding", func(t *testing.T) {
		isUUID5 := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
		all := map[string]string{}
		for k, u := range first {
			if !isUUID5.MatchString(u) || !isUUID5.MatchString(firstEvents[k]) {
				t.Errorf("%s: uids %q, %q are not name-based UUIDs", k, u, firstEvents[k])
			}
			for _, v := range []string{u, firstEvents[k]} {
				if other, dup := all[v]; dup {
					t.Errorf("%s and %s share the uid %s", k, other, v)
				}
				all[v] = k
			}
		}
		if first["222222222222 "+scan.FindingRootNoMFA] == first["333333333333 "+scan.FindingRootNoMFA] {
			t.Error("two accounts share a finding uid")
		}
	})
	t.Run("the partition is part of the uid", func(t *testing.T) {
		other := ocsfReport()
		other.Scan.Partition = "aws-us-gov"
		gov, _ := uids(t, other)
		for k, u := range first {
			if gov[k] == u {
				t.Errorf("%s: the same uid in two partitions", k)
			}
		}
	})
	t.Run("a finding's uid does not change between versions of orgscan", func(t *testing.T) {
		// Pinned: a consumer matches findings across scans by this uid.
		// Python's uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL,
		// "https://github.com/orgscan/orgscan"), "aws/222222222222/root-access-key").
		if got := first["222222222222 "+scan.FindingRootAccessKey]; got != "3ba2b398-29f8-5a34-b3f7-f25c905169aa" {
			t.Errorf("uid %s", got)
		}
	})
}

func TestNameUUIDFollowsRFC9562(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	for _, tc := range []struct {
		name string
		got  string
		want string
	}{
		// The example of Python's uuid module documentation.
		{"python.org in the DNS namespace", uuidString(nameUUID(dns, "python.org")), "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
		{"orgscan's namespace is its URL's UUID", uuidString(findingNamespace), "b311f68f-9e33-5671-851a-79d17a114650"},
	} {
		t.Run(tc.name+" is "+tc.want, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %s", tc.got)
			}
		})
	}
}

func TestOCSFSeveritiesAndControlsMatchTheDefinitions(t *testing.T) {
	// OCSF 1.8.0 schema, dictionary.json, severity_id enum.
	wantSeverity := map[scan.Severity]struct {
		id      int64
		caption string
	}{
		scan.SeverityInformational: {1, "Informational"},
		scan.SeverityLow:           {2, "Low"},
		scan.SeverityMedium:        {3, "Medium"},
		scan.SeverityHigh:          {4, "High"},
		scan.SeverityCritical:      {5, "Critical"},
	}
	for _, s := range scan.Severities() {
		if _, ok := wantSeverity[s]; !ok {
			t.Fatalf("severity %s has no expected OCSF severity_id: map it", s)
		}
	}
	for id, def := range scan.Definitions() {
		t.Run(id+" carries its definition's severity, controls and remediation", func(t *testing.T) {
			rep := &scan.Report{Scan: goldenReport(false).Scan, Accounts: []scan.Row{{
				AccountID: "123456789012", AccountName: "One", Status: scan.StatusOK, ScannedAt: at(time.Minute), Findings: []string{id},
			}}}
			for _, f := range ocsfFormats {
				events := ocsfParse(t, f, render(t, f, rep, Options{}))
				if len(events) != 1 {
					t.Fatalf("%s: %d events, want 1", f, len(events))
				}
				e := events[0]
				want := wantSeverity[def.Severity]
				if num(e, "severity_id") != want.id || str(e, "severity") != want.caption {
					t.Errorf("%s: severity %v %q, want %d %q", f, get(e, "severity_id"), str(e, "severity"), want.id, want.caption)
				}
				var controls []scan.Control
				list, _ := get(e, "unmapped.compliance").([]any)
				for _, c := range list {
					c := c.(map[string]any)
					standards, _ := c["standards"].([]any)
					if len(standards) != 1 {
						t.Fatalf("%s: control %v names %d standards", f, c, len(standards))
					}
					controls = append(controls, scan.Control{Standard: standards[0].(string), ID: c["control"].(string), Title: c["desc"].(string)})
				}
				if list == nil || !slices.Equal(controls, def.Controls) {
					t.Errorf("%s: controls %v, want %v", f, controls, def.Controls)
				}
				for _, c := range []struct{ path, want string }{
					{"remediation.desc", def.Remediation},
					{"finding_info.desc", def.Summary},
					{"finding_info.title", strings.TrimSuffix(def.Summary, ".")},
					{"metadata.event_code", id},
					{"message", "Account 123456789012: " + def.Summary},
				} {
					if got := str(e, c.path); got != c.want {
						t.Errorf("%s: %s = %q, want %q", f, c.path, got, c.want)
					}
				}
			}
		})
	}
	t.Run("a finding this version does not define is of unknown severity, with no remediation or controls", func(t *testing.T) {
		rep := &scan.Report{Scan: goldenReport(false).Scan, Accounts: []scan.Row{{
			AccountID: "123456789012", Status: scan.StatusOK, Findings: []string{newerFinding},
		}}}
		e := ocsfParse(t, FormatOCSF, render(t, FormatOCSF, rep, Options{}))[0]
		if num(e, "severity_id") != 0 || str(e, "severity") != "Unknown" || get(e, "remediation") != nil || get(e, "unmapped") != nil {
			t.Errorf("event %v", e)
		}
		if str(e, "finding_info.title") != newerFinding {
			t.Errorf("title %q, want the finding id", str(e, "finding_info.title"))
		}
	})
}

func TestOCSFNDJSONStreamsEvents(t *testing.T) {
	rep := ocsfReport()
	rows := func(yield func(*scan.Row) bool) {
		for i := range rep.Accounts {
			if rep.Accounts[i].Status != scan.StatusNotScanned && !yield(&rep.Accounts[i]) {
				return
			}
		}
	}
	t.Run("once started, each row's events arrive at WriteRow, one parseable line each", func(t *testing.T) {
		rec := &recorder{}
		w, err := New(FormatOCSFNDJSON, rec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.(Starter).Start(rep.Scan); err != nil {
			t.Fatal(err)
		}
		arrived := 0
		for r := range rows {
			if err := w.WriteRow(r); err != nil {
				t.Fatal(err)
			}
			var lines []string
			if rec.buf.Len() > 0 {
				lines = rec.lines()
			}
			if len(lines)-arrived != len(r.Findings) {
				t.Fatalf("account %s: %d lines arrived for %d findings", r.AccountID, len(lines)-arrived, len(r.Findings))
			}
			for _, line := range lines[arrived:] {
				e := ocsfParse(t, FormatOCSFNDJSON, []byte(line+"\n"))[0]
				if str(e, "cloud.account.uid") != r.AccountID {
					t.Errorf("line for account %s arrived with account %s", str(e, "cloud.account.uid"), r.AccountID)
				}
			}
			arrived = len(lines)
		}
		if err := w.WriteRow(&rep.Accounts[0]); err == nil {
			t.Error("an account written twice was accepted")
		}
		if err := w.Close(rep); err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRow(&rep.Accounts[0]); err == nil {
			t.Error("a row after close was accepted")
		}
		if err := w.(Starter).Start(rep.Scan); err == nil {
			t.Error("a start after close was accepted")
		}
		streamed := ocsfParse(t, FormatOCSFNDJSON, rec.buf.Bytes())
		buffered := ocsfParse(t, FormatOCSF, render(t, FormatOCSF, rep, Options{}))
		if got, want := canonical(t, streamed), canonical(t, buffered); !slices.Equal(got, want) {
			t.Errorf("the streamed events differ from the array's:\n%v\n%v", got, want)
		}
	})
	t.Run("before Start rows wait, and Start writes them", func(t *testing.T) {
		rec := &recorder{}
		w, err := New(FormatOCSFNDJSON, rec, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			if err := w.WriteRow(r); err != nil {
				t.Fatal(err)
			}
		}
		if rec.buf.Len() != 0 {
			t.Fatalf("events arrived before the scan's provenance: %s", rec.buf.String())
		}
		if err := w.(Starter).Start(rep.Scan); err != nil {
			t.Fatal(err)
		}
		if rec.buf.Len() == 0 {
			t.Error("Start wrote none of the waiting rows")
		}
		if err := w.(Starter).Start(rep.Scan); err == nil {
			t.Error("a second Start was accepted")
		}
	})
	t.Run("without Start, Close writes every event, in account order, like the array", func(t *testing.T) {
		streamed := ocsfParse(t, FormatOCSFNDJSON, render(t, FormatOCSFNDJSON, rep, Options{Resolved: ocsfResolved()}))
		buffered := ocsfParse(t, FormatOCSF, render(t, FormatOCSF, rep, Options{Resolved: ocsfResolved()}))
		if got, want := canonical(t, streamed), canonical(t, buffered); !slices.Equal(got, want) {
			t.Errorf("events differ")
		}
	})
	t.Run("a scan that kept no rows still has the events of the rows streamed", func(t *testing.T) {
		var buf bytes.Buffer
		w, err := New(FormatOCSFNDJSON, &buf, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			if err := w.WriteRow(r); err != nil {
				t.Fatal(err)
			}
		}
		empty := &scan.Report{Scan: rep.Scan}
		if err := w.Close(empty); err != nil {
			t.Fatal(err)
		}
		if got, want := len(ocsfParse(t, FormatOCSFNDJSON, buf.Bytes())), len(ocsfParse(t, FormatOCSF, render(t, FormatOCSF, rep, Options{}))); got != want {
			t.Errorf("%d events, want %d", got, want)
		}
	})
	t.Run("a report without findings is an empty array, or no line", func(t *testing.T) {
		empty := &scan.Report{Scan: rep.Scan, Accounts: []scan.Row{{AccountID: "123456789012", Status: scan.StatusOK}}}
		if got := string(render(t, FormatOCSF, empty, Options{})); got != "[]\n" {
			t.Errorf("ocsf: %q", got)
		}
		if got := string(render(t, FormatOCSFNDJSON, empty, Options{})); got != "" {
			t.Errorf("ocsf-ndjson: %q", got)
		}
	})
}

// canonical re-encodes events (encoding/json sorts map keys), sorted.
func canonical(t *testing.T, events []map[string]any) []string {
	t.Helper()
	out := make([]string, len(events))
	for i, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

func TestOCSFEscapesHostileValues(t *testing.T) {
	name := hostileName + "\u2028\u2029\x00"
	ou := "Root/Sandbox/\x1b]0;pwned\x07Evil\n+cmd"
	rep := &scan.Report{Scan: goldenReport(false).Scan, Accounts: []scan.Row{{
		AccountID: "333333333333", AccountName: name, OUPath: ou, Status: scan.StatusOK, ScannedAt: at(time.Minute),
		Findings: []string{scan.FindingRootNoMFA, scan.FindingRootAccessKey},
	}}}
	for _, f := range ocsfFormats {
		t.Run(f+" escapes control characters and keeps the values as they are", func(t *testing.T) {
			out := render(t, f, rep, Options{})
			for i, b := range out {
				if b < 0x20 && b != '\n' {
					t.Fatalf("raw control byte %#x at %d", b, i)
				}
			}
			for _, sep := range []string{"\u2028", "\u2029"} {
				if bytes.Contains(out, []byte(sep)) {
					t.Errorf("raw line separator %q in the output", sep)
				}
			}
			events := ocsfParse(t, f, out)
			if len(events) != 2 {
				t.Fatalf("%d events, want 2 (a value split a line?)", len(events))
			}
			for _, e := range events {
				for _, c := range []struct{ path, want string }{
					{"cloud.account.name", name},
					{"resources.0.name", name},
					{"resources.0.data.ou_path", ou},
				} {
					got := str(e, c.path)
					if strings.HasPrefix(c.path, "resources.0.") {
						res, _ := get(e, "resources").([]any)
						if len(res) != 1 {
							t.Fatalf("resources %v", get(e, "resources"))
						}
						got = str(res[0].(map[string]any), strings.TrimPrefix(c.path, "resources.0."))
					}
					if got != c.want {
						t.Errorf("%s = %q, want %q", c.path, got, c.want)
					}
				}
			}
		})
	}
}

// The facts below were read from the OCSF 1.8.0 schema (the ocsf-schema
// repository at commit 3dcb905d, "v1.8.0 prep") and encoded by hand: which
// attributes a Detection Finding requires, which it defines at all, their
// types, enums and captions. This is a structural test, not validation
// against the OCSF schema itself, which issue #17 item 5 asks for.
func TestOCSFEventsCarryWhatOCSF180Requires(t *testing.T) {
	// Attributes of class 2004 the events may carry, with the file that
	// puts them on the class (events extend finding, which extends
	// base_event; profiles add theirs).
	defined := map[string]string{
		"activity_id": "events/base_event.json", "activity_name": "events/base_event.json",
		"category_uid": "events/base_event.json", "category_name": "events/base_event.json",
		"class_uid": "events/base_event.json", "class_name": "events/base_event.json",
		"type_uid": "events/base_event.json", "type_name": "events/base_event.json",
		"severity_id": "events/base_event.json", "severity": "events/base_event.json",
		"time": "events/base_event.json", "message": "events/base_event.json",
		"metadata": "events/base_event.json", "unmapped": "events/base_event.json",
		"status_id": "events/findings/finding.json", "status": "events/findings/finding.json",
		"finding_info": "events/findings/finding.json",
		"is_alert":     "events/findings/detection_finding.json", "confidence_id": "events/findings/detection_finding.json",
		"confidence": "events/findings/detection_finding.json", "resources": "events/findings/detection_finding.json",
		"remediation": "events/findings/detection_finding.json",
		"cloud":       "profiles/cloud.json",
	}
	// Required attributes, by path, with the file that requires them.
	required := []struct{ path, source string }{
		{"activity_id", "events/base_event.json"},
		{"category_uid", "events/base_event.json"},
		{"class_uid", "events/base_event.json"},
		{"metadata", "events/base_event.json"},
		{"severity_id", "events/base_event.json"},
		{"time", "events/base_event.json"},
		{"type_uid", "events/base_event.json"},
		{"finding_info", "events/findings/finding.json"},
		{"cloud", "profiles/cloud.json (a profile metadata.profiles names)"},
		{"metadata.product", "objects/metadata.json"},
		{"metadata.version", "objects/metadata.json"},
		{"finding_info.uid", "objects/finding_info.json"},
		{"cloud.provider", "objects/cloud.json"},
	}
	// Objects that extend _entity must have a name or a uid
	// (objects/_entity.json, at_least_one constraint).
	entities := []struct{ path, source string }{
		{"metadata.product", "objects/product.json"},
		{"cloud.account", "objects/account.json"},
		{"cloud.org", "objects/organization.json"},
		{"resources", "objects/resource_details.json via objects/_resource.json"},
	}
	// Attributes each object defines (its own, its parents' and its
	// profiles'), those the events use.
	objectAttrs := map[string][]string{
		"finding_info":     {"uid", "uid_alt", "title", "desc", "types", "first_seen_time", "last_seen_time", "created_time", "modified_time"}, // objects/finding_info.json
		"metadata":         {"uid", "version", "product", "profiles", "event_code", "tenant_uid", "log_name"},                                  // objects/metadata.json
		"metadata.product": {"name", "uid", "vendor_name", "version"},                                                                          // objects/product.json, _entity.json
		"cloud":            {"provider", "region", "cloud_partition", "account", "org", "zone"},                                                // objects/cloud.json
		"cloud.account":    {"uid", "name", "type_id", "type", "tags", "labels"},                                                               // objects/account.json, _entity.json
		"cloud.org":        {"uid", "name", "ou_uid", "ou_name"},                                                                               // objects/organization.json, _entity.json
		"resources":        {"uid", "name", "type", "cloud_partition", "region", "role_id", "role", "data", "tags", "labels", "owner"},         // objects/resource_details.json, _resource.json, _entity.json
		"remediation":      {"desc", "references", "kb_article_list"},                                                                          // objects/remediation.json
	}
	// Integer attributes (integer_t, long_t, timestamp_t in dictionary.json).
	integers := []string{"activity_id", "category_uid", "class_uid", "type_uid", "severity_id", "status_id", "confidence_id", "time",
		"finding_info.last_seen_time", "cloud.account.type_id"}
	// Enums, id to caption, and the file each comes from.
	enums := []struct {
		id, caption string
		values      map[int64]string
		source      string
	}{
		{"activity_id", "activity_name", map[int64]string{0: "Unknown", 1: "Create", 2: "Update", 3: "Close", 99: "Other"}, "events/findings/finding.json, events/base_event.json"},
		{"severity_id", "severity", map[int64]string{0: "Unknown", 1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical", 6: "Fatal", 99: "Other"}, "dictionary.json"},
		{"status_id", "status", map[int64]string{1: "New", 2: "In Progress", 3: "Suppressed", 4: "Resolved", 5: "Archived", 6: "Deleted"}, "events/findings/finding.json"},
		{"confidence_id", "confidence", map[int64]string{0: "Unknown", 1: "Low", 2: "Medium", 3: "High", 99: "Other"}, "dictionary.json"},
		{"category_uid", "category_name", map[int64]string{2: "Findings"}, "categories.json"},
		{"class_uid", "class_name", map[int64]string{2004: "Detection Finding"}, "events/findings/detection_finding.json"},
		{"cloud.account.type_id", "cloud.account.type", map[int64]string{10: "AWS Account"}, "objects/account.json"},
	}

	for _, f := range ocsfFormats {
		events := ocsfParse(t, f, render(t, f, ocsfReport(), Options{Resolved: ocsfResolved()}))
		if len(events) == 0 {
			t.Fatalf("%s: no events", f)
		}
		for _, e := range events {
			id := fmt.Sprintf("%s event %s/%s", f, str(e, "cloud.account.uid"), findingOf(e))
			t.Run(id+" carries every required attribute", func(t *testing.T) {
				for _, r := range required {
					if get(e, r.path) == nil {
						t.Errorf("%s is missing (required by %s)", r.path, r.source)
					}
				}
				if p, _ := get(e, "metadata.profiles").([]any); !slices.Contains(p, any("cloud")) {
					t.Errorf("metadata.profiles %v does not name the cloud profile", p)
				}
				if rem, ok := get(e, "remediation").(map[string]any); ok && rem["desc"] == nil {
					t.Error("remediation without desc (required by objects/remediation.json)")
				}
				for _, en := range entities {
					objs := []any{get(e, en.path)}
					if list, ok := objs[0].([]any); ok {
						objs = list
					}
					for _, o := range objs {
						if o, ok := o.(map[string]any); ok && o["name"] == nil && o["uid"] == nil {
							t.Errorf("%s has neither name nor uid (%s extends _entity)", en.path, en.source)
						}
					}
				}
			})
			t.Run(id+" carries only attributes OCSF 1.8.0 defines there", func(t *testing.T) {
				for k := range e {
					if _, ok := defined[k]; !ok {
						t.Errorf("%s is not an attribute of Detection Finding", k)
					}
				}
				for path, attrs := range objectAttrs {
					objs := []any{get(e, path)}
					if list, ok := objs[0].([]any); ok {
						objs = list
					}
					for _, o := range objs {
						o, _ := o.(map[string]any)
						for k := range o {
							if !slices.Contains(attrs, k) {
								t.Errorf("%s.%s is not an attribute of that object", path, k)
							}
						}
					}
				}
			})
			t.Run(id+" has the types, enums and derived ids of OCSF 1.8.0", func(t *testing.T) {
				for _, p := range integers {
					v := get(e, p)
					if v == nil && p == "finding_info.last_seen_time" {
						continue
					}
					if n, ok := v.(json.Number); !ok || strings.ContainsAny(n.String(), ".eE") {
						t.Errorf("%s = %v, want an integer", p, v)
					}
				}
				if _, ok := get(e, "is_alert").(bool); !ok {
					t.Errorf("is_alert = %v, want a boolean (boolean_t)", get(e, "is_alert"))
				}
				for _, p := range []string{"finding_info.uid", "metadata.uid", "message", "cloud.account.uid", "metadata.version"} {
					if s, ok := get(e, p).(string); !ok || s == "" {
						t.Errorf("%s = %v, want a string", p, get(e, p))
					}
				}
				for _, en := range enums {
					caption, ok := en.values[num(e, en.id)]
					if !ok {
						t.Errorf("%s = %v is not in its enum (%s)", en.id, get(e, en.id), en.source)
					} else if got := str(e, en.caption); got != caption {
						t.Errorf("%s = %q, want the caption %q of %s %d (%s)", en.caption, got, caption, en.id, num(e, en.id), en.source)
					}
				}
				res, _ := get(e, "resources").([]any)
				for _, r := range res {
					r := r.(map[string]any)
					if n, _ := r["role_id"].(json.Number); n.String() != "1" || r["role"] != "Target" {
						t.Errorf("resource role %v %v, want 1 Target (objects/resource_details.json)", r["role_id"], r["role"])
					}
				}
				// dictionary.json, type_uid: class_uid * 100 + activity_id.
				if num(e, "type_uid") != num(e, "class_uid")*100+num(e, "activity_id") {
					t.Errorf("type_uid %d for class %d, activity %d", num(e, "type_uid"), num(e, "class_uid"), num(e, "activity_id"))
				}
				if want := "Detection Finding: " + str(e, "activity_name"); str(e, "type_name") != want {
					t.Errorf("type_name %q, want %q", str(e, "type_name"), want)
				}
				if str(e, "metadata.version") != "1.8.0" {
					t.Errorf("metadata.version %q", str(e, "metadata.version"))
				}
			})
		}
	}
}

func TestOCSFClosesResolvedFindings(t *testing.T) {
	day := 24 * time.Hour
	baseline := &scan.Report{Scan: goldenReport(false).Scan, Accounts: []scan.Row{{
		AccountID: "222222222222", AccountName: "Prod", Status: scan.StatusOK, ScannedAt: at(-7 * day),
		Findings: []string{scan.FindingRootAccessKey, scan.FindingRootNoMFA},
	}}}
	baseline.Scan.StartedAt = t0.Add(-7 * day)
	current := &scan.Report{Scan: goldenReport(false).Scan, Accounts: []scan.Row{{
		AccountID: "222222222222", AccountName: "Prod", OUPath: "Root/Prod", Status: scan.StatusOK, ScannedAt: at(time.Minute),
		Findings: []string{scan.FindingRootNoMFA},
	}}}
	lastSeen := *baseline.Accounts[0].ScannedAt
	resolved := []ResolvedFinding{
		{AccountID: "222222222222", Finding: scan.FindingRootAccessKey, LastSeen: lastSeen},
		// Given twice, and once for a finding the scan still sees.
		{AccountID: "222222222222", Finding: scan.FindingRootAccessKey, LastSeen: lastSeen},
		{AccountID: "222222222222", Finding: scan.FindingRootNoMFA, LastSeen: lastSeen},
	}
	created := map[string]string{}
	for _, e := range ocsfParse(t, FormatOCSF, render(t, FormatOCSF, baseline, Options{})) {
		created[findingOf(e)] = str(e, "finding_info.uid")
	}
	for _, f := range ocsfFormats {
		t.Run(f+" closes a resolved finding under the uid it was created with", func(t *testing.T) {
			events := ocsfParse(t, f, render(t, f, current, Options{Resolved: resolved}))
			var closed []map[string]any
			for _, e := range events {
				if num(e, "activity_id") == ocsfActivityClose {
					closed = append(closed, e)
				}
			}
			if len(events) != 2 || len(closed) != 1 {
				t.Fatalf("%d events, %d closed; want the current finding and one closed", len(events), len(closed))
			}
			e := closed[0]
			for _, c := range []struct {
				path string
				got  any
				want any
			}{
				{"finding_info.uid", str(e, "finding_info.uid"), created[scan.FindingRootAccessKey]},
				{"finding", findingOf(e), scan.FindingRootAccessKey},
				{"activity_name", str(e, "activity_name"), "Close"},
				{"type_uid", num(e, "type_uid"), int64(200403)},
				{"status_id", num(e, "status_id"), int64(4)},
				{"status", str(e, "status"), "Resolved"},
				{"is_alert", get(e, "is_alert"), false},
				{"finding_info.last_seen_time", num(e, "finding_info.last_seen_time"), lastSeen.UnixMilli()},
				{"time", num(e, "time"), current.Accounts[0].ScannedAt.UnixMilli()},
				{"cloud.account.name", str(e, "cloud.account.name"), "Prod"},
				{"message", str(e, "message"), "Account 222222222222: no longer found: The root user has an access key."},
			} {
				if c.got != c.want {
					t.Errorf("%s = %v, want %v", c.path, c.got, c.want)
				}
			}
		})
	}
	t.Run("an account the report does not hold is closed under its id, at the scan's end", func(t *testing.T) {
		events := ocsfParse(t, FormatOCSF, render(t, FormatOCSF, current, Options{Resolved: []ResolvedFinding{
			{AccountID: "999999999999", Finding: scan.FindingRootPassword},
		}}))
		e := events[len(events)-1]
		if str(e, "cloud.account.uid") != "999999999999" || num(e, "time") != current.Scan.FinishedAt.UnixMilli() ||
			get(e, "finding_info.last_seen_time") != nil || num(e, "status_id") != 4 {
			t.Errorf("event %v", e)
		}
	})
	t.Run("a resolved finding without account or finding is refused", func(t *testing.T) {
		for _, f := range ocsfFormats {
			for _, bad := range []ResolvedFinding{{Finding: scan.FindingRootPassword}, {AccountID: "123456789012"}} {
				if _, err := New(f, &bytes.Buffer{}, Options{Resolved: []ResolvedFinding{bad}}); err == nil || strings.Contains(err.Error(), "--") {
					t.Errorf("%s: New(%+v) = %v, want an error without flag names", f, bad, err)
				}
			}
		}
	})
	t.Run("the report's own formats ignore resolved findings", func(t *testing.T) {
		if !bytes.Equal(render(t, FormatJSON, current, Options{}), render(t, FormatJSON, current, Options{Resolved: resolved})) {
			t.Error("the JSON report changed with resolved findings")
		}
	})
}

func TestOCSFFormatNamesAndExtensions(t *testing.T) {
	for _, tc := range []struct {
		path, format string
	}{
		{"findings.ocsf.json", FormatOCSF},
		{"out/FINDINGS.OCSF.JSON", FormatOCSF},
		{"findings.ocsf.ndjson", FormatOCSFNDJSON},
		{"findings.ocsf.jsonl", FormatOCSFNDJSON},
		{"report.json", FormatJSON},
		{"ocsf.json", FormatJSON},
		{"rows.ndjson", FormatNDJSON},
	} {
		t.Run(tc.path+" is "+tc.format, func(t *testing.T) {
			if got, ok := FormatFromExtension(tc.path); !ok || got != tc.format {
				t.Errorf("FormatFromExtension(%q) = %q, %v", tc.path, got, ok)
			}
		})
	}
	t.Run("the NDJSON formats stream and the others do not", func(t *testing.T) {
		var streaming []string
		for _, f := range Formats() {
			if Streams(f) {
				streaming = append(streaming, f)
			}
		}
		if !slices.Equal(streaming, []string{FormatNDJSON, FormatOCSFNDJSON}) {
			t.Errorf("streaming formats %v", streaming)
		}
	})
}
