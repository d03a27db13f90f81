package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// ocsfSchemaEnv names a checkout of the OCSF project's schema repository
// (github.com/ocsf/ocsf-schema) at the tag of OCSFVersion. The schema is
// not kept in this repository: it is the OCSF project's, and no module
// proxy serves it. Without the variable the test is skipped; with it, the
// ocsf goldens (the demo's among them) must validate.
const ocsfSchemaEnv = "ORGSCAN_OCSF_SCHEMA"

// TestOCSFOutputValidatesAgainstTheOCSFSchema checks every event of the
// ocsf goldens against the OCSF schema itself: every attribute is one the
// class or object defines, of its type, within its enum, and every
// required one (of the class, its objects and the profiles the event
// names) is there.
func TestOCSFOutputValidatesAgainstTheOCSFSchema(t *testing.T) {
	dir := os.Getenv(ocsfSchemaEnv)
	if dir == "" {
		t.Skipf("set %s to a checkout of github.com/ocsf/ocsf-schema at v%s to validate against it", ocsfSchemaEnv, OCSFVersion)
	}
	s := loadOCSFSchema(t, os.DirFS(dir))
	if s.version != OCSFVersion {
		t.Fatalf("%s holds OCSF %s; the output follows %s", dir, s.version, OCSFVersion)
	}
	class := s.class(t, "detection_finding")
	files := []string{
		filepath.Join("testdata", "ocsf.golden"),
		filepath.Join("testdata", "ocsf-ndjson.golden"),
		// With the accounts' tags in resources[].tags.
		filepath.Join("testdata", "ocsf-tag-columns.golden"),
		filepath.Join("..", "..", "internal", "cli", "testdata", "demo-ocsf.ocsf"),
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			events := readEvents(t, f)
			if len(events) == 0 {
				t.Fatal("no events")
			}
			for i, e := range events {
				for _, problem := range s.validateEvent(t, class, e) {
					t.Errorf("event %d: %s", i+1, problem)
				}
			}
		})
	}
}

// readEvents reads a JSON array of events or one event a line.
func readEvents(t *testing.T, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	decode := func(b []byte) (v any) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var out []map[string]any
		for _, e := range decode(trimmed).([]any) {
			out = append(out, e.(map[string]any))
		}
		return out
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, decode(sc.Bytes()).(map[string]any))
	}
	return out
}

// ocsfSchema is the part of an OCSF schema checkout the validation needs:
// the dictionary, the types, and the class and object files by name.
type ocsfSchema struct {
	fsys       fs.FS
	version    string
	dictionary map[string]map[string]any
	types      map[string]map[string]any
	classes    map[string]string // name → file
	objects    map[string]string // name → file
	resolved   map[string]*ocsfSpec
}

// ocsfSpec is a class or object with its inheritance and includes applied.
type ocsfSpec struct {
	name        string
	attributes  map[string]map[string]any
	constraints map[string]any
}

func loadOCSFSchema(t *testing.T, fsys fs.FS) *ocsfSchema {
	t.Helper()
	s := &ocsfSchema{fsys: fsys, classes: map[string]string{}, objects: map[string]string{}, resolved: map[string]*ocsfSpec{}}
	var version struct{ Version string }
	s.read(t, "version.json", &version)
	s.version = version.Version
	var dict struct {
		Attributes map[string]map[string]any `json:"attributes"`
		Types      struct {
			Attributes map[string]map[string]any `json:"attributes"`
		} `json:"types"`
	}
	s.read(t, "dictionary.json", &dict)
	s.dictionary, s.types = dict.Attributes, dict.Types.Attributes
	index := func(root string, into map[string]string) {
		err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || path.Ext(p) != ".json" {
				return err
			}
			var head struct{ Name string }
			s.read(t, p, &head)
			into[head.Name] = p
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	index("events", s.classes)
	index("objects", s.objects)
	return s
}

func (s *ocsfSchema) read(t *testing.T, name string, v any) {
	t.Helper()
	data, err := fs.ReadFile(s.fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// class resolves an event class and fills in the enums the OCSF compiler
// derives rather than the files spell out: category_uid is the class's
// category (categories.json), class_uid is category_uid*1000 plus the
// class's uid, and type_uid is class_uid*100 plus an activity_id.
func (s *ocsfSchema) class(t *testing.T, name string) *ocsfSpec {
	t.Helper()
	sp := s.spec(t, "class:"+name, s.classes, name)
	var uid int
	var category string
	for n := name; n != "" && (uid == 0 || category == ""); {
		var head struct {
			UID      int    `json:"uid"`
			Category string `json:"category"`
			Extends  string `json:"extends"`
		}
		s.read(t, s.classes[n], &head)
		if uid == 0 {
			uid = head.UID
		}
		if category == "" {
			category = head.Category
		}
		n = head.Extends
	}
	var categories struct {
		Attributes map[string]struct {
			UID int `json:"uid"`
		} `json:"attributes"`
	}
	s.read(t, "categories.json", &categories)
	c, ok := categories.Attributes[category]
	if !ok || uid == 0 {
		t.Fatalf("class %s: category %q or uid %d not found", name, category, uid)
	}
	classUID := c.UID*1000 + uid
	sp.attributes["category_uid"]["enum"] = map[string]any{fmt.Sprint(c.UID): category}
	sp.attributes["class_uid"]["enum"] = map[string]any{fmt.Sprint(classUID): name}
	types := map[string]any{}
	activities, _ := sp.attributes["activity_id"]["enum"].(map[string]any)
	for a := range activities {
		var id int
		fmt.Sscan(a, &id)
		types[fmt.Sprint(classUID*100+id)] = a
	}
	sp.attributes["type_uid"]["enum"] = types
	return sp
}

func (s *ocsfSchema) object(t *testing.T, name string) *ocsfSpec {
	return s.spec(t, "object:"+name, s.objects, name)
}

// spec resolves a class or object as the OCSF compiler does: the parent's
// attributes first, the file's own merged over them key by key, and the
// attributes of included files (profiles among them, which mark theirs
// with the profile's name unless the file sets "profile" itself).
func (s *ocsfSchema) spec(t *testing.T, key string, files map[string]string, name string) *ocsfSpec {
	t.Helper()
	if sp, ok := s.resolved[key]; ok {
		return sp
	}
	file, ok := files[name]
	if !ok {
		t.Fatalf("the schema defines no %s", key)
	}
	var raw struct {
		Extends     string                     `json:"extends"`
		Attributes  map[string]json.RawMessage `json:"attributes"`
		Constraints map[string]any             `json:"constraints"`
	}
	s.read(t, file, &raw)
	sp := &ocsfSpec{name: name, attributes: map[string]map[string]any{}, constraints: raw.Constraints}
	if raw.Extends != "" && raw.Extends != "object" {
		parent := s.spec(t, strings.SplitN(key, ":", 2)[0]+":"+raw.Extends, files, raw.Extends)
		for k, v := range parent.attributes {
			sp.attributes[k] = clone(v)
		}
		if sp.constraints == nil {
			sp.constraints = parent.constraints
		}
	}
	if inc, ok := raw.Attributes["$include"]; ok {
		var includes []string
		if err := json.Unmarshal(inc, &includes); err != nil {
			t.Fatalf("%s $include: %v", file, err)
		}
		for _, f := range includes {
			var included struct {
				Name       string                    `json:"name"`
				Meta       string                    `json:"meta"`
				Attributes map[string]map[string]any `json:"attributes"`
			}
			s.read(t, f, &included)
			for k, v := range included.Attributes {
				a := clone(v)
				if included.Meta == "profile" {
					a["profile"] = included.Name
				}
				merge(sp.attributes, k, a)
			}
		}
	}
	for k, v := range raw.Attributes {
		if k == "$include" {
			continue
		}
		var a map[string]any
		if err := json.Unmarshal(v, &a); err != nil {
			t.Fatalf("%s %s: %v", file, k, err)
		}
		merge(sp.attributes, k, a)
	}
	s.resolved[key] = sp
	return sp
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func merge(into map[string]map[string]any, name string, a map[string]any) {
	cur, ok := into[name]
	if !ok {
		into[name] = clone(a)
		return
	}
	for k, v := range a {
		cur[k] = v
	}
}

// validateEvent checks one event against its class; it returns what is
// wrong, in words.
func (s *ocsfSchema) validateEvent(t *testing.T, class *ocsfSpec, e map[string]any) []string {
	var profiles []string
	if m, ok := e["metadata"].(map[string]any); ok {
		if ps, ok := m["profiles"].([]any); ok {
			for _, p := range ps {
				if ps, ok := p.(string); ok {
					profiles = append(profiles, ps)
				}
			}
		}
	}
	v := &ocsfValidation{s: s, profiles: profiles, t: t}
	v.object(class, e, "")
	return v.problems
}

type ocsfValidation struct {
	s        *ocsfSchema
	profiles []string
	problems []string
	t        *testing.T
}

func (v *ocsfValidation) fail(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *ocsfValidation) object(sp *ocsfSpec, obj map[string]any, at string) {
	for name, a := range sp.attributes {
		if a["requirement"] != "required" {
			continue
		}
		if p, ok := a["profile"].(string); ok && !slices.Contains(v.profiles, p) {
			continue
		}
		if _, ok := obj[name]; !ok {
			v.fail("%s%s: required by %s, missing", at, name, sp.name)
		}
	}
	for kind, list := range sp.constraints {
		names, _ := list.([]any)
		n := 0
		for _, name := range names {
			if _, ok := obj[name.(string)]; ok {
				n++
			}
		}
		switch {
		case kind == "at_least_one" && n == 0:
			v.fail("%s: %s wants at least one of %v", strings.TrimSuffix(at, "."), sp.name, names)
		case kind == "just_one" && n != 1:
			v.fail("%s: %s wants exactly one of %v, has %d", strings.TrimSuffix(at, "."), sp.name, names, n)
		}
	}
	for name, val := range obj {
		a, ok := sp.attributes[name]
		if !ok {
			v.fail("%s%s: %s defines no such attribute", at, name, sp.name)
			continue
		}
		if _, ok := a["@deprecated"]; ok {
			v.fail("%s%s: deprecated in %s", at, name, sp.name)
		}
		d, ok := v.s.dictionary[name]
		if !ok {
			v.fail("%s%s: not in the dictionary", at, name)
			continue
		}
		typ, _ := d["type"].(string)
		if t, ok := a["type"].(string); ok {
			typ = t
		}
		enum, _ := d["enum"].(map[string]any)
		if e, ok := a["enum"].(map[string]any); ok {
			enum = e
		}
		if arr, _ := d["is_array"].(bool); arr {
			list, ok := val.([]any)
			if !ok {
				v.fail("%s%s: want an array of %s, have %T", at, name, typ, val)
				continue
			}
			for i, el := range list {
				v.value(typ, enum, el, fmt.Sprintf("%s%s[%d]", at, name, i))
			}
			continue
		}
		v.value(typ, enum, val, at+name)
	}
}

func (v *ocsfValidation) value(typ string, enum map[string]any, val any, at string) {
	if enum != nil {
		key := fmt.Sprint(val)
		if _, ok := enum[key]; !ok {
			v.fail("%s: %s is not in its enum", at, key)
		}
	}
	if !strings.HasSuffix(typ, "_t") {
		obj, ok := val.(map[string]any)
		if !ok {
			v.fail("%s: want a %s object, have %T", at, typ, val)
			return
		}
		if typ == "object" {
			return // free-form, as unmapped is
		}
		v.object(v.s.object(v.t, typ), obj, at+".")
		return
	}
	v.primitive(typ, val, at)
}

// primitive checks a value of a scalar type, following the type's base
// types to string, integer, long, float, boolean or JSON, and its regex
// and range on the way.
func (v *ocsfValidation) primitive(typ string, val any, at string) {
	for {
		t, ok := v.s.types[typ]
		if !ok {
			v.fail("%s: type %s is not in the dictionary", at, typ)
			return
		}
		if re, ok := t["regex"].(string); ok {
			if s, ok := val.(string); !ok || !regexp.MustCompile(re).MatchString(s) {
				v.fail("%s: %v does not match %s's pattern", at, val, typ)
			}
		}
		base, _ := t["type"].(string)
		if base == "" {
			break
		}
		typ = base
	}
	switch typ {
	case "string_t":
		if _, ok := val.(string); !ok {
			v.fail("%s: want a string, have %T", at, val)
		}
	case "integer_t", "long_t":
		n, ok := val.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			v.fail("%s: want an integer, have %v", at, val)
		}
	case "float_t":
		if _, ok := val.(json.Number); !ok {
			v.fail("%s: want a number, have %T", at, val)
		}
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			v.fail("%s: want a boolean, have %T", at, val)
		}
	case "json_t":
	default:
		v.fail("%s: unknown base type %s", at, typ)
	}
}

// The validation is only worth its pass if it fails: each defect below,
// made in a valid event, must be reported.
func TestOCSFSchemaValidationCatchesDefects(t *testing.T) {
	dir := os.Getenv(ocsfSchemaEnv)
	if dir == "" {
		t.Skipf("set %s to a checkout of github.com/ocsf/ocsf-schema at v%s", ocsfSchemaEnv, OCSFVersion)
	}
	s := loadOCSFSchema(t, os.DirFS(dir))
	class := s.class(t, "detection_finding")
	valid := func() map[string]any { return readEvents(t, filepath.Join("testdata", "ocsf.golden"))[0] }
	for _, tc := range []struct {
		name   string
		defect func(e map[string]any)
		want   string
	}{
		{"an attribute the class does not define", func(e map[string]any) { e["account_owner"] = "x" }, "account_owner: detection_finding defines no such attribute"},
		{"a required attribute missing", func(e map[string]any) { delete(e, "time") }, "time: required"},
		{"a value outside its enum", func(e map[string]any) { e["severity_id"] = json.Number("7") }, "severity_id: 7 is not in its enum"},
		{"a string where a timestamp goes", func(e map[string]any) { e["time"] = "2026-11-30" }, "time: want an integer"},
		{"another class's uid", func(e map[string]any) { e["class_uid"] = json.Number("2003") }, "class_uid: 2003 is not in its enum"},
		{"the cloud profile without its cloud", func(e map[string]any) { delete(e, "cloud") }, "cloud: required"},
		{"a required attribute of an object missing", func(e map[string]any) {
			delete(e["finding_info"].(map[string]any), "uid")
		}, "finding_info.uid: required"},
		{"a uid that is no UUID where one is due", func(e map[string]any) {
			e["metadata"].(map[string]any)["uid"] = 42
		}, "metadata.uid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := valid()
			if problems := s.validateEvent(t, class, e); len(problems) > 0 {
				t.Fatalf("the valid event is not: %v", problems)
			}
			tc.defect(e)
			problems := s.validateEvent(t, class, e)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
				t.Errorf("problems %q, want one with %q", problems, tc.want)
			}
		})
	}
}
