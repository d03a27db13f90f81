// Package diff compares two orgscan reports: what changed since the last
// audit.
//
// Read takes either report format from any io.Reader and tells them apart by
// content, never by file name: the first JSON object of a JSON report has a
// schema_version key, that of an NDJSON report (one account row per line, no
// scan block) an account_id key. A report whose schema_version is not
// output.SchemaVersion, the version this orgscan writes, is refused with an
// *UnsupportedSchemaError. Malformed input, an account listed twice, an
// account id that is not 12 digits or an unknown status is refused with an
// error naming the line.
//
// Compare matches the accounts of two documents by id. Per account it
// reports findings that appeared (new-findings), findings that went away
// while the account was read (resolved-findings), findings that went away
// because the account could not be read this time (unverified-findings: the
// credential may still be there), accounts in the new report only (joined)
// or the old one only (left), status changes (ok → error is a coverage
// loss), OU moves and state changes. A joined account's findings count as
// new. Unchanged accounts are only counted.
//
// # Markdown, per owner
//
// Write's markdown format is what a team pastes into one ticket per owner:
// a title with the organization and the two scans' dates, both reports'
// provenance, then one section per owner (scan.Row.Owner, with
// WriteOptions.OwnerTag) listing its new findings (account, finding,
// severity and what it means, from this version's definitions), resolved
// and unverified ones; then the counts and every change. An account's
// owner comes from the new report's row, or from the old one's when the
// account left or its new row says nothing of its owner (the new scan did
// not read it). Owners with the most severe new finding come first.
//
// # The diff document
//
// Write's json format (and json.Marshal of a *Diff) produce, with
// schema_version SchemaVersion:
//
//	{
//	  "schema_version": "1",
//	  "old": {"source": "q1.json" | null, "format": "json" | "ndjson" | "scan",
//	          "schema_version": "1" | null, "scan": {the report's scan block} | null},
//	  "new": {same shape},
//	  "counts": {
//	    "old_accounts", "new_accounts", "compared", "unchanged", "changed",
//	    "joined", "left", "with_new_findings", "with_resolved_findings",
//	    "with_unverified_findings", "status_changes", "coverage_losses",
//	    "ou_moves", "state_changes"                          (all numbers)
//	  },
//	  "changes": [{
//	    "account_id": "111111111111",
//	    "account_name": "Prod",
//	    "kinds": ["new-findings", "status-change", ...],
//	    "findings_added": [...], "findings_resolved": [...],
//	    "findings_unverified": [...],                         (always lists)
//	    "status": {"from", "to", "error_code", "error"} | null,
//	    "ou_path": {"from", "to"} | null,
//	    "state": {"from", "to"} | null
//	  }]
//	}
//
// changes is ordered by account_id and holds only accounts that changed.
// status, ou_path and state are null unless that value changed; for a joined
// account they hold the new row's values with from null, for a left account
// the old row's with to null. error_code and error describe the new row.
// The counts add up: old_accounts = compared + left, new_accounts =
// compared + joined, compared = unchanged + changed - joined - left.
package diff
