package schema_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/schema"
	"github.com/orgscan/orgscan/schema/schematest"
)

// The enums in the row schema must list exactly the constants of the data
// model, or a new finding or error code would make valid reports fail
// validation (or the schema would promise values that never come).
func TestRowSchemaEnumsMatchTheDataModel(t *testing.T) {
	consts := scanConstants(t, "../pkg/scan")
	var row map[string]any
	raw, err := fs.ReadFile(schema.FS(), schema.RowFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &row); err != nil {
		t.Fatalf("parse %s: %v", schema.RowFile, err)
	}
	props := row["properties"].(map[string]any)
	enum := func(v any) []string {
		var out []string
		for _, e := range v.(map[string]any)["enum"].([]any) {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		return out
	}
	for _, tc := range []struct {
		name   string
		prefix string
		enum   []string
	}{
		{"status lists every Status constant", "Status", enum(props["status"])},
		{"access_method lists every Access constant", "Access", enum(props["access_method"])},
		{"findings list every Finding constant", "Finding", enum(props["findings"].(map[string]any)["items"])},
		{"error_code lists every Code constant", "Code", enum(props["error_code"])},
		{"root_credentials.source lists every Source constant", "Source",
			enum(row["$defs"].(map[string]any)["root_credentials"].(map[string]any)["properties"].(map[string]any)["source"])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := consts[tc.prefix]
			if len(want) == 0 {
				t.Fatalf("no %s* constants found in pkg/scan/row.go", tc.prefix)
			}
			if !slices.Equal(tc.enum, want) {
				t.Errorf("schema enum %q, data model constants %q", tc.enum, want)
			}
		})
	}
}

// scanConstants reads the package-level string constants of a package's
// non-test files, grouped by the prefix of their name, sorted.
func scanConstants(t *testing.T, dir string) map[string][]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	out := map[string][]string{}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		collectConstants(t, f, out)
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

func collectConstants(t *testing.T, f *ast.File, out map[string][]string) {
	t.Helper()
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					break // iota-style: no literal to read
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range []string{"Status", "Access", "Finding", "Code", "Source"} {
					if strings.HasPrefix(name.Name, p) {
						out[p] = append(out[p], v)
					}
				}
			}
		}
	}
}

const validRow = `{"account_id":"111122223333","account_name":"a","email":"a@example.com","ou_path":"Root",
"state":"ACTIVE","joined_method":"CREATED","joined_at":"2020-01-02T03:04:05Z","access_method":"caller",
"root_access_keys":false,"root_signing_certificates":false,"root_password":true,"root_mfa":true,
"findings":["root-password"],"status":"ok","error_code":null,"error":null,"scanned_at":"2026-01-02T03:04:05Z",
"summary":{"AccountAccessKeysPresent":0}}`

func TestRowSchemaIsStrict(t *testing.T) {
	s := schematest.Compile(t)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal([]byte(validRow), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name  string
		doc   []byte
		valid bool
	}{
		{"a complete row is valid", []byte(validRow), true},
		{"unknown booleans may be null", edit(func(m map[string]any) { m["root_mfa"] = nil }), true},
		{"an unknown property is rejected", edit(func(m map[string]any) { m["extra"] = 1 }), false},
		{"a boolean written as a string is rejected", edit(func(m map[string]any) { m["root_mfa"] = "true" }), false},
		{"an account id of 11 digits is rejected", edit(func(m map[string]any) { m["account_id"] = "11112222333" }), false},
		{"an unknown status is rejected", edit(func(m map[string]any) { m["status"] = "fine" }), false},
		{"a timestamp that is not RFC 3339 is rejected", edit(func(m map[string]any) { m["scanned_at"] = "yesterday" }), false},
		{"an empty error string is rejected in favour of null", edit(func(m map[string]any) { m["error"] = "" }), false},
		{"a missing summary is rejected", edit(func(m map[string]any) { delete(m, "summary") }), false},
		{"tags and a security contact are valid", edit(func(m map[string]any) {
			m["tags"] = map[string]any{"owner": "team@example.com", "cost-center": ""}
			m["security_contact"] = map[string]any{"name": "Sec", "email": "sec@example.com", "title": nil, "phone": "+1 206 555 0100"}
		}), true},
		{"an account without tags has an empty object", edit(func(m map[string]any) { m["tags"] = map[string]any{} }), true},
		{"no security contact is null, with its finding", edit(func(m map[string]any) {
			m["security_contact"] = nil
			m["findings"] = []any{"root-password", "no-security-contact"}
		}), true},
		{"failed lookups carry a code and a message", edit(func(m map[string]any) {
			m["tags_error"] = map[string]any{"code": "AccessDenied", "message": "list the account's tags: denied"}
			m["security_contact"] = nil
			m["security_contact_error"] = map[string]any{"code": "AccessDenied", "message": "read the security contact: denied"}
		}), true},
		{"a tag value that is not a string is rejected", edit(func(m map[string]any) { m["tags"] = map[string]any{"n": 1} }), false},
		{"tags as a list of pairs are rejected", edit(func(m map[string]any) { m["tags"] = []any{map[string]any{"Key": "a", "Value": "b"}} }), false},
		{"a contact without its e-mail key is rejected", edit(func(m map[string]any) {
			m["security_contact"] = map[string]any{"name": "Sec", "title": nil, "phone": nil}
		}), false},
		{"a lookup error without a code is rejected", edit(func(m map[string]any) { m["tags_error"] = map[string]any{"message": "x"} }), false},
		{"root credentials with a third access key are rejected", edit(func(m map[string]any) {
			key := map[string]any{"id": "", "active": true, "created_at": nil, "last_used_at": nil, "last_used_service": "", "last_used_region": ""}
			m["root_credentials"] = map[string]any{
				"source": "credential-report", "as_of": "2026-01-02T03:04:05Z",
				"access_keys": []any{key, key, key}, "signing_certificates": nil,
				"mfa":      map[string]any{"enabled": true, "devices": nil},
				"password": map[string]any{"present": false, "last_used_at": nil},
			}
		}), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := schematest.Validate(t, s.Row, tc.doc)
			if tc.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tc.valid && err == nil {
				t.Errorf("want invalid, schema accepted %s", tc.doc)
			}
		})
	}
}
