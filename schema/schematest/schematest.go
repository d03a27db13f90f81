// Package schematest validates documents against the published schemas in
// tests. Only tests import it, so the validator stays out of the binary.
package schematest

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/orgscan/orgscan/schema"
)

// Schemas are the compiled report and row schemas, and the remediation
// report's with its account (an NDJSON line).
type Schemas struct {
	Report             *jsonschema.Schema
	Row                *jsonschema.Schema
	Remediation        *jsonschema.Schema
	RemediationAccount *jsonschema.Schema
}

// Compile loads both schemas from schema.FS under their $ids, so the
// report's reference to the row schema resolves without any network, and
// makes "format" (date-time) an assertion rather than an annotation.
func Compile(t testing.TB) Schemas {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range []struct{ file, id string }{
		{schema.ReportFile, schema.ReportID},
		{schema.RowFile, schema.RowID},
		{schema.RemediationFile, schema.RemediationID},
	} {
		raw, err := fs.ReadFile(schema.FS(), f.file)
		if err != nil {
			t.Fatalf("read schema %s: %v", f.file, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("parse schema %s: %v", f.file, err)
		}
		if err := c.AddResource(f.id, doc); err != nil {
			t.Fatalf("add schema %s: %v", f.file, err)
		}
	}
	var s Schemas
	var err error
	if s.Report, err = c.Compile(schema.ReportID); err != nil {
		t.Fatalf("compile report schema: %v", err)
	}
	if s.Row, err = c.Compile(schema.RowID); err != nil {
		t.Fatalf("compile row schema: %v", err)
	}
	if s.Remediation, err = c.Compile(schema.RemediationID); err != nil {
		t.Fatalf("compile remediation schema: %v", err)
	}
	if s.RemediationAccount, err = c.Compile(schema.RemediationAccountID); err != nil {
		t.Fatalf("compile remediation account schema: %v", err)
	}
	return s
}

// Validate checks one JSON document against sch and returns the
// validator's error, which names the failing location.
func Validate(t testing.TB, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}
