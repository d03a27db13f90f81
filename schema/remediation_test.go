package schema_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/remediate"
	"github.com/orgscan/orgscan/pkg/scan"
	"github.com/orgscan/orgscan/schema"
	"github.com/orgscan/orgscan/schema/schematest"
)

// The remediation schema's enums must list exactly the constants of
// pkg/remediate's data model, or a new outcome would make valid evidence
// fail validation (or the schema would promise values that never come).
// The constants are read from the source, so that one added to a group
// is seen without this test naming it.
func TestRemediationSchemaEnumsMatchTheDataModel(t *testing.T) {
	consts := exportedConstants(t, "../pkg/remediate")
	byPrefix := func(prefix string, except ...string) []string {
		var out []string
		for name, v := range consts {
			if strings.HasPrefix(name, prefix) && !slices.Contains(except, name) {
				out = append(out, v)
			}
		}
		slices.Sort(out)
		return out
	}
	raw, err := fs.ReadFile(schema.FS(), schema.RemediationFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", schema.RemediationFile, err)
	}
	at := func(path ...string) map[string]any {
		m := doc
		for _, p := range path {
			next, ok := m[p].(map[string]any)
			if !ok {
				t.Fatalf("%s has no %s", schema.RemediationFile, strings.Join(path, "/"))
			}
			m = next
		}
		return m
	}
	enum := func(m map[string]any) []string {
		var out []string
		for _, e := range m["enum"].([]any) {
			out = append(out, e.(string))
		}
		slices.Sort(out)
		return out
	}
	// A remediation report's incomplete reasons are the scan's that apply
	// to it, and remediate's own.
	reasons := append(byPrefix("Reason"), scan.ReasonInterrupted, scan.ReasonScanFailed, scan.ReasonAccountsInError, scan.ReasonOUsNotListed)
	slices.Sort(reasons)
	for _, tc := range []struct {
		name       string
		got, model []string
	}{
		{"mode lists every Mode constant", enum(at("$defs", "meta", "properties", "mode")), byPrefix("Mode")},
		{"kind lists every Kind constant", enum(at("$defs", "kind")), byPrefix("Kind")},
		{"decision lists every Decision constant", enum(at("$defs", "action", "properties", "decision")), byPrefix("Decision")},
		{"hold lists every Hold constant", enum(at("$defs", "action", "properties", "hold")), byPrefix("Hold")},
		{"outcome lists every Outcome constant", enum(at("$defs", "outcome")), byPrefix("Outcome")},
		{"status lists every Status constant", enum(at("$defs", "status")), byPrefix("Status")},
		{"options.delete lists every Select constant but all, which a plan never records",
			enum(at("$defs", "options", "properties", "delete", "items")), byPrefix("Select", "SelectAll")},
		{"incomplete_reasons lists every Reason constant and the scan's reasons it uses",
			enum(at("$defs", "meta", "properties", "incomplete_reasons", "items")), reasons},
		{"schema_version is SchemaVersion", []string{at("properties", "schema_version")["const"].(string)}, []string{consts["SchemaVersion"]}},
		{"kind is ReportKind", []string{at("properties", "kind")["const"].(string)}, []string{consts["ReportKind"]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.model) == 0 || tc.model[0] == "" {
				t.Fatalf("no such constants in pkg/remediate")
			}
			if !slices.Equal(tc.got, tc.model) {
				t.Errorf("schema %q, data model %q", tc.got, tc.model)
			}
		})
	}
}

// exportedConstants reads the exported package-level string constants of
// a package's non-test files, by name.
func exportedConstants(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	out := map[string]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, name := range vs.Names {
					if i >= len(vs.Values) || !name.IsExported() {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[name.Name] = v
				}
			}
		}
	}
	return out
}

// validApply is evidence of an apply with one account of each kind of
// interest; the test edits it one property at a time.
const validApply = `{
 "schema_version": "1", "kind": "orgscan-remediation",
 "remediation": {
  "mode": "apply", "organization_id": "o-abc123def4", "management_account_id": "111111111111",
  "caller_arn": "arn:aws:sts::111111111111:assumed-role/Admin/bob", "caller_account_id": "111111111111",
  "partition": "aws", "started_at": "2026-03-01T13:00:00Z", "finished_at": "2026-03-01T13:01:00Z",
  "orgscan_version": "1.2.3",
  "options": {"delete": ["access-keys", "signing-certificates"], "recent_days": 90, "include_recently_used": false,
   "region": "us-east-1", "concurrency": 20, "ous": [], "exclude_ous": [], "accounts": [], "exclude_accounts": []},
  "plan": {"digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
   "created_at": "2026-03-01T12:00:00Z", "created_by": "arn:aws:sts::111111111111:assumed-role/Admin/alice"},
  "complete": true, "incomplete_reasons": [], "interrupted": false, "ous_not_listed": [],
  "root_access": {"root_credentials_management": "enabled", "root_sessions": "enabled"},
  "counts": {"accounts": 2, "by_status": {"remediated": 1, "skipped": 1}, "by_outcome": {"deleted": 1, "new_since_plan": 1},
   "by_kind": {"access-key": 1}}
 },
 "accounts": [
  {"account_id": "111111111111", "account_name": "Management", "ou_path": "Root", "state": "ACTIVE", "status": "skipped",
   "reason": "the management account", "before": null, "actions": [], "after": null},
  {"account_id": "222222222222", "account_name": "Prod", "ou_path": "Root/Prod", "state": "ACTIVE", "status": "remediated",
   "before": {"source": "root-session", "as_of": "2026-03-01T12:00:00Z",
    "access_keys": [{"id": "AKIAEXAMPLE1", "active": true, "created_at": "2025-01-01T00:00:00Z", "last_used_at": null,
     "last_used_service": null, "last_used_region": null}],
    "signing_certificates": [], "mfa": {"enabled": true, "virtual": false, "devices": []},
    "password": {"present": false, "last_used_at": null}},
   "actions": [
    {"kind": "access-key", "id": "AKIAEXAMPLE1", "decision": "delete", "outcome": "deleted",
     "at": "2026-03-01T13:00:30Z", "request_id": "req-1"},
    {"kind": "access-key", "id": "AKIAEXAMPLE2", "decision": "hold", "hold": "not_in_plan",
     "hold_detail": "found by the apply and not named by the plan", "outcome": "new_since_plan"}
   ],
   "after": {"source": "root-session", "as_of": "2026-03-01T13:00:40Z",
    "access_keys": [{"id": "AKIAEXAMPLE2", "active": true, "created_at": "2026-03-01T12:30:00Z", "last_used_at": null,
     "last_used_service": null, "last_used_region": null}],
    "signing_certificates": [], "mfa": {"enabled": true, "virtual": false, "devices": []},
    "password": {"present": false, "last_used_at": null}}}
 ]
}`

func TestRemediationSchemaIsStrict(t *testing.T) {
	s := schematest.Compile(t)
	edit := func(f func(doc, meta, prod, action map[string]any)) []byte {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal([]byte(validApply), &doc); err != nil {
			t.Fatal(err)
		}
		prod := doc["accounts"].([]any)[1].(map[string]any)
		f(doc, doc["remediation"].(map[string]any), prod, prod["actions"].([]any)[0].(map[string]any))
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	asPlan := func(doc, meta, prod, action map[string]any) {
		meta["mode"] = "plan"
		prod["status"], prod["after"] = "planned", nil
		action["outcome"] = "planned"
		delete(action, "at")
		delete(action, "request_id")
		prod["actions"] = prod["actions"].([]any)[:1]
	}
	for _, tc := range []struct {
		name  string
		doc   []byte
		valid bool
	}{
		{"evidence of an apply is valid", []byte(validApply), true},
		{"a plan is valid", edit(asPlan), true},
		{"a plan that kept no accounts may have no digest", edit(func(doc, meta, prod, action map[string]any) {
			asPlan(doc, meta, prod, action)
			meta["plan"].(map[string]any)["digest"] = ""
			doc["accounts"] = []any{}
		}), true},
		{"an apply without the digest of its plan is rejected", edit(func(_, meta, _, _ map[string]any) {
			meta["plan"].(map[string]any)["digest"] = ""
		}), false},
		{"a digest that is not sha256 is rejected", edit(func(_, meta, _, _ map[string]any) {
			meta["plan"].(map[string]any)["digest"] = "md5:0123"
		}), false},
		{"a plan with a deletion done is rejected", edit(func(doc, meta, prod, action map[string]any) {
			asPlan(doc, meta, prod, action)
			action["outcome"], action["at"] = "deleted", "2026-03-01T13:00:30Z"
		}), false},
		{"a plan with a state after is rejected", edit(func(doc, meta, prod, action map[string]any) {
			asPlan(doc, meta, prod, action)
			prod["after"] = prod["before"]
		}), false},
		{"an apply with an action still planned is rejected", edit(func(_, _, _, action map[string]any) {
			action["outcome"] = "planned"
		}), false},
		{"an unknown outcome is rejected", edit(func(_, _, _, action map[string]any) { action["outcome"] = "gone" }), false},
		{"an unknown mode is rejected", edit(func(_, meta, _, _ map[string]any) { meta["mode"] = "dry-run" }), false},
		{"an unknown status is rejected", edit(func(_, _, prod, _ map[string]any) { prod["status"] = "fixed" }), false},
		{"an unknown kind is rejected", edit(func(_, _, _, action map[string]any) { action["kind"] = "ssh-key" }), false},
		{"an unknown property is rejected", edit(func(_, _, prod, _ map[string]any) { prod["extra"] = 1 }), false},
		{"a failed action without its error is rejected", edit(func(_, _, _, action map[string]any) {
			action["outcome"] = "failed"
		}), false},
		{"a failed action with its error is valid", edit(func(_, _, _, action map[string]any) {
			action["outcome"] = "failed"
			delete(action, "at")
			delete(action, "request_id")
			action["error"] = map[string]any{"code": "ServiceFailure", "message": "try again", "request_id": "req-2"}
		}), true},
		{"a deletion without its time is rejected", edit(func(_, _, _, action map[string]any) { delete(action, "at") }), false},
		{"a time that is not RFC 3339 is rejected", edit(func(_, _, _, action map[string]any) { action["at"] = "just now" }), false},
		{"a held action without its reason is rejected", edit(func(_, _, _, action map[string]any) {
			action["outcome"], action["decision"] = "held", "hold"
		}), false},
		{"a password with an id is rejected", edit(func(_, _, _, action map[string]any) { action["kind"] = "password" }), false},
		{"an access key without an id is rejected", edit(func(_, _, _, action map[string]any) { action["id"] = "" }), false},
		{"an account in error without its error is rejected", edit(func(_, _, prod, _ map[string]any) {
			prod["status"], prod["actions"] = "error", []any{}
		}), false},
		{"a skipped account without its reason is rejected", edit(func(doc, _, _, _ map[string]any) {
			delete(doc["accounts"].([]any)[0].(map[string]any), "reason")
		}), false},
		{"an OU failure is checked against the scan report's definition", edit(func(_, meta, _, _ map[string]any) {
			meta["ous_not_listed"] = []any{map[string]any{"id": "not-an-ou", "path": "Root", "listing": "accounts", "error_code": "AccessDenied", "error": "denied"}}
		}), false},
		{"root credentials before are checked against the row schema's definition", edit(func(_, _, prod, _ map[string]any) {
			prod["before"].(map[string]any)["source"] = "guess"
		}), false},
		{"options written as null are rejected in favour of an empty list", edit(func(_, meta, _, _ map[string]any) {
			meta["options"].(map[string]any)["ous"] = nil
		}), false},
		{"a count keyed by an unknown status is rejected", edit(func(_, meta, _, _ map[string]any) {
			meta["counts"].(map[string]any)["by_status"].(map[string]any)["fixed"] = 1
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schematest.Validate(t, s.Remediation, tc.doc)
			if tc.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tc.valid && err == nil {
				t.Errorf("want invalid, schema accepted it")
			}
		})
	}
}

// An NDJSON line is an account, validated on its own.
func TestRemediationAccountSchemaValidatesOneLine(t *testing.T) {
	s := schematest.Compile(t)
	var doc struct{ Accounts []json.RawMessage }
	if err := json.Unmarshal([]byte(validApply), &doc); err != nil {
		t.Fatal(err)
	}
	for _, a := range doc.Accounts {
		if err := schematest.Validate(t, s.RemediationAccount, a); err != nil {
			t.Errorf("account does not validate: %v\n%s", err, a)
		}
	}
	if err := schematest.Validate(t, s.RemediationAccount, []byte(validApply)); err == nil {
		t.Error("the whole document validates as one account")
	}
}

// Every field of the data model is described, and nothing else: the
// schema's properties at each level are the JSON names of the Go type's
// fields, omitempty ones included, which no example document would show
// all of.
func TestRemediationSchemaDescribesEveryField(t *testing.T) {
	raw, err := fs.ReadFile(schema.FS(), schema.RemediationFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		def string
		typ reflect.Type
	}{
		{"(root)", reflect.TypeFor[remediate.Report]()},
		{"meta", reflect.TypeFor[remediate.Meta]()},
		{"plan_ref", reflect.TypeFor[remediate.PlanRef]()},
		{"options", reflect.TypeFor[remediate.Options]()},
		{"counts", reflect.TypeFor[remediate.Counts]()},
		{"account", reflect.TypeFor[remediate.Account]()},
		{"action", reflect.TypeFor[remediate.Action]()},
		{"error", reflect.TypeFor[remediate.Error]()},
	} {
		t.Run(tc.def+" has the fields of "+tc.typ.Name(), func(t *testing.T) {
			props := doc.Properties
			if tc.def != "(root)" {
				props = doc.Defs[tc.def].Properties
			}
			var fields []string
			for f := range tc.typ.Fields() {
				if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
					fields = append(fields, name)
				}
			}
			slices.Sort(fields)
			if got := slices.Sorted(maps.Keys(props)); !slices.Equal(got, fields) {
				t.Errorf("schema %q, Go %q", got, fields)
			}
		})
	}
}
