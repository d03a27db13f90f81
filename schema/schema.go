// Package schema publishes the JSON Schemas (draft 2020-12) of orgscan's
// JSON report and NDJSON rows. The files beside this one are the published
// form; the package embeds them so tests, and a command that prints them,
// use exactly what is published.
package schema

import (
	"embed"
	"io/fs"
)

// File names inside FS, and the $id each schema declares. The report
// refers to the row schema by its relative name, so a validator needs both
// loaded under these ids.
const (
	ReportFile = "report.schema.json"
	RowFile    = "row.schema.json"
	ReportID   = "https://github.com/orgscan/orgscan/schema/report.schema.json"
	RowID      = "https://github.com/orgscan/orgscan/schema/row.schema.json"
	// The remediation report (plan or evidence) of `orgscan remediate`.
	// It refers to the report and row schemas' definitions by relative
	// name, and describes an NDJSON line as RemediationAccountID.
	RemediationFile      = "remediation.schema.json"
	RemediationID        = "https://github.com/orgscan/orgscan/schema/remediation.schema.json"
	RemediationAccountID = RemediationID + "#/$defs/account"
)

//go:embed report.schema.json row.schema.json remediation.schema.json
var files embed.FS

// FS holds ReportFile, RowFile and RemediationFile.
func FS() fs.FS { return files }
