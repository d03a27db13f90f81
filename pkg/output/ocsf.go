package output

import (
	"bufio"
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// OCSFVersion is the OCSF schema version the ocsf formats follow, the one
// definition of it: every event's metadata.version carries it.
const OCSFVersion = "1.8.0"

// ResolvedFinding is a finding a baseline report had that this scan no
// longer sees in an account it read. The ocsf formats emit it as a closed,
// resolved finding with the uid it was created with, so that a consumer
// can close its copy.
type ResolvedFinding struct {
	AccountID string
	Finding   string
	// LastSeen is when the baseline's scan saw the finding; zero when it
	// is not known.
	LastSeen time.Time
}

// Starter is a Writer that wants the scan's provenance before its first
// row. The ocsf-ndjson writer streams only once it has it, since every
// event carries the organization and orgscan's version; without Start it
// holds the rows until Close.
type Starter interface {
	Start(meta scan.Meta) error
}

// Facts of OCSF 1.8.0 that the events encode. Each names the schema file
// it comes from; the tests hold the events to them.
const (
	// OCSF 1.8.0 schema, categories.json: "findings" is category 2.
	ocsfCategoryUID  = 2
	ocsfCategoryName = "Findings"
	// OCSF 1.8.0 schema, events/findings/detection_finding.json: uid 4 in
	// its category, so class_uid is 2*1000+4 (the category-scoped class id
	// the OCSF compiler derives, ocsf/ocsf-lib-py compile/planners/uid.py).
	ocsfClassUID  = ocsfCategoryUID*1000 + 4
	ocsfClassName = "Detection Finding"

	// OCSF 1.8.0 schema, events/findings/finding.json, activity_id enum.
	ocsfActivityCreate = 1
	ocsfActivityClose  = 3
	// OCSF 1.8.0 schema, events/findings/finding.json, status_id enum.
	ocsfStatusNew      = 1
	ocsfStatusResolved = 4
	// OCSF 1.8.0 schema, dictionary.json, confidence_id enum: findings are
	// read from IAM's own answers, with no heuristic in between.
	ocsfConfidenceHigh = 3
	// OCSF 1.8.0 schema, objects/account.json, type_id enum.
	ocsfAccountTypeAWS = 10
	// OCSF 1.8.0 schema, objects/resource_details.json, role_id enum: the
	// account is the subject of the finding.
	ocsfRoleTarget = 1
	// OCSF 1.8.0 schema, profiles/cloud.json: the cloud attribute comes
	// with the cloud profile, which metadata.profiles names.
	ocsfProfileCloud = "cloud"

	// The type of an account as AWS Config names it for evaluations of a
	// whole account (ExternalEvaluation.ComplianceResourceType in the
	// AWS Config API reference, botocore config 2014-11-12 service model).
	awsAccountResourceType = "AWS::::Account"
)

// ocsfActivityName is the caption of an activity_id (OCSF 1.8.0 schema,
// events/findings/finding.json).
func ocsfActivityName(id int) string {
	if id == ocsfActivityClose {
		return "Close"
	}
	return "Create"
}

// ocsfStatusName is the caption of a status_id (OCSF 1.8.0 schema,
// events/findings/finding.json).
func ocsfStatusName(id int) string {
	if id == ocsfStatusResolved {
		return "Resolved"
	}
	return "New"
}

// ocsfSeverity maps orgscan's severities onto the severity_id enum of the
// OCSF 1.8.0 schema, dictionary.json, whose five steps between
// Informational and Critical match orgscan's one for one. A finding this
// version does not define is 0, Unknown.
func ocsfSeverity(s scan.Severity) (id int, caption string) {
	switch s {
	case scan.SeverityInformational:
		return 1, "Informational"
	case scan.SeverityLow:
		return 2, "Low"
	case scan.SeverityMedium:
		return 3, "Medium"
	case scan.SeverityHigh:
		return 4, "High"
	case scan.SeverityCritical:
		return 5, "Critical"
	}
	return 0, "Unknown"
}

// ocsfEvent is one Detection Finding, the one definition of the keys the
// ocsf formats write and their order. OCSF leaves an attribute out when it
// is unknown, so unlike the JSON report these omit rather than write null.
type ocsfEvent struct {
	ActivityID   int               `json:"activity_id"`
	ActivityName string            `json:"activity_name"`
	CategoryUID  int               `json:"category_uid"`
	CategoryName string            `json:"category_name"`
	ClassUID     int               `json:"class_uid"`
	ClassName    string            `json:"class_name"`
	TypeUID      int               `json:"type_uid"`
	TypeName     string            `json:"type_name"`
	SeverityID   int               `json:"severity_id"`
	Severity     string            `json:"severity"`
	StatusID     int               `json:"status_id"`
	Status       string            `json:"status"`
	Time         int64             `json:"time"`
	Message      string            `json:"message"`
	IsAlert      bool              `json:"is_alert"`
	ConfidenceID int               `json:"confidence_id"`
	Confidence   string            `json:"confidence"`
	FindingInfo  ocsfFindingInfo   `json:"finding_info"`
	Cloud        ocsfCloud         `json:"cloud"`
	Resources    []ocsfResource    `json:"resources"`
	Remediation  *ocsfRemediation  `json:"remediation,omitempty"`
	Metadata     ocsfMetadata      `json:"metadata"`
	Unmapped     *ocsfUnmappedData `json:"unmapped,omitempty"`
}

// ocsfFindingInfo leaves first_seen_time out: a scan sees the present,
// and a baseline tells only that a finding existed then, not since when.
type ocsfFindingInfo struct {
	UID          string   `json:"uid"`
	UIDAlt       string   `json:"uid_alt"`
	Title        string   `json:"title"`
	Desc         string   `json:"desc,omitempty"`
	Types        []string `json:"types"`
	LastSeenTime int64    `json:"last_seen_time,omitempty"`
}

// ocsfCloud has no region: the root user and IAM are global, and the
// region the scan signed in says nothing about the finding.
type ocsfCloud struct {
	Provider       string       `json:"provider"`
	CloudPartition string       `json:"cloud_partition,omitempty"`
	Account        ocsfAccount  `json:"account"`
	Org            *ocsfOrgUnit `json:"org,omitempty"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

type ocsfOrgUnit struct {
	UID string `json:"uid"`
}

type ocsfResource struct {
	UID            string            `json:"uid"`
	Name           string            `json:"name,omitempty"`
	Type           string            `json:"type"`
	CloudPartition string            `json:"cloud_partition,omitempty"`
	RoleID         int               `json:"role_id"`
	Role           string            `json:"role"`
	Data           *ocsfResourceData `json:"data,omitempty"`
	Tags           []ocsfKeyValue    `json:"tags,omitempty"`
}

// ocsfKeyValue is one of the account's tags, as the resource's tags
// attribute holds them (OCSF 1.8.0 schema, objects/_resource.json, tags:
// key_value_object, objects/key_value_object.json: name and value). The
// value is always written, empty or not: the object needs value or values.
type ocsfKeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ocsfResourceData carries the OU path whole: organization.ou_name wants
// one OU's name, and a path joined with "/" cannot be split back into
// names that may hold "/" themselves.
type ocsfResourceData struct {
	OUPath string `json:"ou_path"`
}

type ocsfRemediation struct {
	Desc string `json:"desc"`
}

type ocsfMetadata struct {
	UID       string      `json:"uid"`
	Version   string      `json:"version"`
	Product   ocsfProduct `json:"product"`
	Profiles  []string    `json:"profiles"`
	EventCode string      `json:"event_code"`
	TenantUID string      `json:"tenant_uid,omitempty"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	UID        string `json:"uid"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
}

// ocsfUnmappedData holds the controls. OCSF 1.8.0 defines the compliance
// attribute on Compliance Finding (events/findings/compliance_finding.json)
// and not on Detection Finding, whose events would carry it as an unknown
// attribute; Prowler's Detection Findings put their controls under
// unmapped too. One entry per control, named as the compliance object's
// attributes (objects/compliance.json: standards, control, desc), since a
// single compliance object cannot pair several standards with their own
// control ids.
type ocsfUnmappedData struct {
	Compliance []ocsfControl `json:"compliance"`
}

type ocsfControl struct {
	Standards []string `json:"standards"`
	Control   string   `json:"control"`
	Desc      string   `json:"desc"`
}

// orgscanProduct names orgscan in metadata.product, and is the namespace of
// its finding uids.
const orgscanProduct = "orgscan"

// findingNamespace is the namespace of the name-based finding uids:
// the RFC 9562 name-based (version 5) UUID of orgscan's URL in the URL
// namespace. It never changes, or every finding's uid would.
var findingNamespace = nameUUID(uuidNamespaceURL, "https://github.com/orgscan/orgscan")

// uuidNamespaceURL is the URL namespace of RFC 9562, section 6.6.
var uuidNamespaceURL = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// nameUUID is the RFC 9562 version 5 UUID of name in namespace ns.
func nameUUID(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}

func uuidString(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	hex.Encode(b[9:13], u[4:6])
	hex.Encode(b[14:18], u[6:8])
	hex.Encode(b[19:23], u[8:10])
	hex.Encode(b[24:], u[10:])
	b[8], b[13], b[18], b[23] = '-', '-', '-', '-'
	return string(b[:])
}

// findingKey names one finding of one account: partition, account id and
// finding id. It leaves the organization out so that an account keeps its
// findings' uids when it moves to another organization, and keeps the
// partition in since nothing promises that an account id is unique across
// partitions.
func findingKey(partition, accountID, finding string) string {
	return partition + "/" + accountID + "/" + finding
}

// ocsfEvents builds the Detection Findings of one account's row, one per
// finding in the row's order; a finding repeated in a row is one event.
func ocsfEvents(r *scan.Row, m *scan.Meta) []ocsfEvent {
	if len(r.Findings) == 0 {
		return nil
	}
	out := make([]ocsfEvent, 0, len(r.Findings))
	seen := make(map[string]bool, len(r.Findings))
	for _, f := range r.Findings {
		if seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, ocsfEventOf(r, f, m, ocsfActivityCreate, eventTime(r, m)))
	}
	return out
}

// eventTime is when the scan read the account, or when the scan started
// for a row that does not say: both are known while the scan streams.
func eventTime(r *scan.Row, m *scan.Meta) time.Time {
	if r.ScannedAt != nil {
		return *r.ScannedAt
	}
	return m.StartedAt
}

// ocsfEventOf is the event of finding f in the account of row r: created
// (a current finding) or closed (resolved since a baseline).
func ocsfEventOf(r *scan.Row, f string, m *scan.Meta, activity int, at time.Time) ocsfEvent {
	key := findingKey(m.Partition, r.AccountID, f)
	status := ocsfStatusNew
	message := fmt.Sprintf("Account %s: ", r.AccountID)
	if activity == ocsfActivityClose {
		status = ocsfStatusResolved
		message += "no longer found: "
	}
	def, known := scan.DefinitionOf(f)
	sevID, sev := ocsfSeverity(def.Severity)
	e := ocsfEvent{
		ActivityID:   activity,
		ActivityName: ocsfActivityName(activity),
		CategoryUID:  ocsfCategoryUID,
		CategoryName: ocsfCategoryName,
		ClassUID:     ocsfClassUID,
		ClassName:    ocsfClassName,
		// OCSF 1.8.0 schema, dictionary.json, type_uid: class_uid*100 +
		// activity_id; its caption is the class's and the activity's.
		TypeUID:    ocsfClassUID*100 + activity,
		TypeName:   ocsfClassName + ": " + ocsfActivityName(activity),
		SeverityID: sevID,
		Severity:   sev,
		StatusID:   status,
		Status:     ocsfStatusName(status),
		// OCSF 1.8.0 schema, dictionary.json, timestamp_t: milliseconds
		// since the epoch.
		Time:    at.UnixMilli(),
		Message: message,
		// OCSF 1.8.0 schema, events/findings/detection_finding.json,
		// is_alert: a Create is an alertable signal, a Close is not.
		IsAlert:      activity == ocsfActivityCreate,
		ConfidenceID: ocsfConfidenceHigh,
		Confidence:   "High",
		FindingInfo: ocsfFindingInfo{
			UID:    uuidString(nameUUID(findingNamespace, key)),
			UIDAlt: key,
			Title:  f,
			Types:  []string{f},
		},
		Cloud: ocsfCloud{
			Provider:       "AWS",
			CloudPartition: m.Partition,
			Account:        ocsfAccount{UID: r.AccountID, Name: r.AccountName, TypeID: ocsfAccountTypeAWS, Type: "AWS Account"},
		},
		Resources: []ocsfResource{{
			UID: r.AccountID, Name: r.AccountName, Type: awsAccountResourceType, CloudPartition: m.Partition,
			RoleID: ocsfRoleTarget, Role: "Target",
		}},
		Metadata: ocsfMetadata{
			UID:       uuidString(nameUUID(findingNamespace, key+"/"+ocsfActivityName(activity)+"/"+m.StartedAt.UTC().Format(time.RFC3339Nano))),
			Version:   OCSFVersion,
			Product:   ocsfProduct{Name: orgscanProduct, UID: orgscanProduct, VendorName: orgscanProduct, Version: m.Version},
			Profiles:  []string{ocsfProfileCloud},
			EventCode: f,
			TenantUID: m.OrganizationID,
		},
	}
	if m.OrganizationID != "" {
		e.Cloud.Org = &ocsfOrgUnit{UID: m.OrganizationID}
	}
	if r.OUPath != "" {
		e.Resources[0].Data = &ocsfResourceData{OUPath: r.OUPath}
	}
	// The account's own tags (read with them): a consumer routes the
	// finding to its owner by them. OUs' tags are not the account's.
	for _, k := range slices.Sorted(maps.Keys(r.Tags)) {
		e.Resources[0].Tags = append(e.Resources[0].Tags, ocsfKeyValue{Name: k, Value: r.Tags[k]})
	}
	if activity == ocsfActivityCreate {
		e.FindingInfo.LastSeenTime = at.UnixMilli()
	}
	if !known {
		// A finding from a newer orgscan, read back: only its id is known.
		e.Message += f
		return e
	}
	e.FindingInfo.Title = strings.TrimSuffix(def.Summary, ".")
	e.FindingInfo.Desc = def.Summary
	e.Message += def.Summary
	e.Remediation = &ocsfRemediation{Desc: def.Remediation}
	controls := make([]ocsfControl, len(def.Controls))
	for i, c := range def.Controls {
		controls[i] = ocsfControl{Standards: []string{c.Standard}, Control: c.ID, Desc: c.Title}
	}
	e.Unmapped = &ocsfUnmappedData{Compliance: controls}
	return e
}

// resolvedEvents builds the closing events of the resolved findings, by
// account id then finding id. A pair that is also a current finding of
// the report is left out (the scan's own observation wins), and a pair
// given twice is one event. The account's row in the report, when there
// is one, names the account and dates the event.
func resolvedEvents(resolved []ResolvedFinding, rep *scan.Report) []ocsfEvent {
	if len(resolved) == 0 {
		return nil
	}
	// Only the rows of accounts with resolved findings are held, so that a
	// report kept compactly is not decoded whole.
	rows := make(map[string]*scan.Row, len(resolved))
	for _, res := range resolved {
		rows[res.AccountID] = nil
	}
	for r := range rep.Rows().All() {
		if held, ok := rows[r.AccountID]; ok && held == nil {
			rows[r.AccountID] = r
		}
	}
	sorted := slices.Clone(resolved)
	slices.SortStableFunc(sorted, func(a, b ResolvedFinding) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.Finding, b.Finding))
	})
	sorted = slices.CompactFunc(sorted, func(a, b ResolvedFinding) bool {
		return a.AccountID == b.AccountID && a.Finding == b.Finding
	})
	var out []ocsfEvent
	for _, res := range sorted {
		r, at := rows[res.AccountID], rep.Scan.FinishedAt
		if r == nil {
			r = &scan.Row{AccountID: res.AccountID}
		} else if r.ScannedAt != nil {
			at = *r.ScannedAt
		}
		if slices.Contains(r.Findings, res.Finding) {
			continue
		}
		e := ocsfEventOf(r, res.Finding, &rep.Scan, ocsfActivityClose, at)
		if !res.LastSeen.IsZero() {
			e.FindingInfo.LastSeenTime = res.LastSeen.UnixMilli()
		}
		out = append(out, e)
	}
	return out
}

// checkResolved refuses a resolved finding that names no account or no
// finding: its event would have no uid to close.
func checkResolved(format string, resolved []ResolvedFinding) error {
	for i, r := range resolved {
		if r.AccountID == "" || r.Finding == "" {
			return fmt.Errorf("%s output: resolved finding %d names no account or no finding", format, i+1)
		}
	}
	return nil
}

// ocsfFromExtension reads the double extensions of the ocsf formats, which
// must be told apart before their last part (".json", ".ndjson") is.
func ocsfFromExtension(path string) (string, bool) {
	lower := strings.ToLower(path)
	switch {
	case strings.HasSuffix(lower, ".ocsf.json"):
		return FormatOCSF, true
	case strings.HasSuffix(lower, ".ocsf.ndjson"), strings.HasSuffix(lower, ".ocsf.jsonl"):
		return FormatOCSFNDJSON, true
	}
	return "", false
}

// ocsfWriter writes one JSON array of every event, accounts by id.
type ocsfWriter struct {
	w        io.Writer
	resolved []ResolvedFinding
	closer
}

func (*ocsfWriter) WriteRow(*scan.Row) error { return nil }

// Close writes the array one event at a time, so memory stays at one
// account's events rather than the whole document.
func (o *ocsfWriter) Close(rep *scan.Report) error {
	if err := o.begin(FormatOCSF, rep); err != nil {
		return err
	}
	bw := bufio.NewWriter(o.w)
	bw.WriteByte('[')
	n := 0
	write := func(events []ocsfEvent) error {
		for i := range events {
			b, err := json.MarshalIndent(&events[i], "  ", "  ")
			if err != nil {
				return fmt.Errorf("write ocsf findings: account %s: %w", events[i].Cloud.Account.UID, err)
			}
			if n > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n  ")
			bw.Write(b)
			n++
		}
		return nil
	}
	for r := range rep.Rows().All() {
		if err := write(ocsfEvents(r, &rep.Scan)); err != nil {
			return err
		}
	}
	if err := write(resolvedEvents(o.resolved, rep)); err != nil {
		return err
	}
	if n > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]\n")
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write ocsf findings: %w", err)
	}
	return nil
}

// ocsfNDJSONWriter writes one event per line, each account's events as
// soon as it has both the row and the scan's provenance.
type ocsfNDJSONWriter struct {
	w        io.Writer
	flusher  interface{ Flush() error }
	resolved []ResolvedFinding
	meta     *scan.Meta
	// pending holds the rows that arrived before Start.
	pending []scan.Row
	written map[string]bool
	closer
}

func newOCSFNDJSONWriter(w io.Writer, resolved []ResolvedFinding) *ocsfNDJSONWriter {
	n := &ocsfNDJSONWriter{w: w, resolved: resolved, written: map[string]bool{}}
	// A buffered destination would hold events back until the scan ends,
	// which defeats streaming.
	n.flusher, _ = w.(interface{ Flush() error })
	return n
}

// Start takes the scan's provenance and writes the rows that were waiting
// for it.
func (n *ocsfNDJSONWriter) Start(meta scan.Meta) error {
	if n.closed {
		return fmt.Errorf("%s output: start after close", FormatOCSFNDJSON)
	}
	if n.meta != nil {
		return fmt.Errorf("%s output: started twice", FormatOCSFNDJSON)
	}
	n.meta = &meta
	pending := n.pending
	n.pending = nil
	for i := range pending {
		if err := n.writeRow(&pending[i], n.meta); err != nil {
			return err
		}
	}
	return nil
}

func (n *ocsfNDJSONWriter) WriteRow(r *scan.Row) error {
	if r == nil {
		return fmt.Errorf("%s output: nil row", FormatOCSFNDJSON)
	}
	if n.closed {
		return fmt.Errorf("%s output: row for account %s after close", FormatOCSFNDJSON, r.AccountID)
	}
	if n.written[r.AccountID] {
		return fmt.Errorf("%s output: account %s written twice", FormatOCSFNDJSON, r.AccountID)
	}
	n.written[r.AccountID] = true
	if n.meta == nil {
		n.pending = append(n.pending, *r)
		return nil
	}
	return n.writeRow(r, n.meta)
}

// writeRow writes the row's events.
func (n *ocsfNDJSONWriter) writeRow(r *scan.Row, m *scan.Meta) error {
	return n.writeEvents(ocsfEvents(r, m))
}

// writeEvents writes events in one Write, so a reader of the pipe never
// sees half a line from us.
func (n *ocsfNDJSONWriter) writeEvents(events []ocsfEvent) error {
	if len(events) == 0 {
		return nil
	}
	account := events[0].Cloud.Account.UID
	var buf []byte
	for i := range events {
		b, err := json.Marshal(&events[i])
		if err != nil {
			return fmt.Errorf("write %s events for account %s: %w", FormatOCSFNDJSON, events[i].Cloud.Account.UID, err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if _, err := n.w.Write(buf); err != nil {
		return fmt.Errorf("write %s events for account %s: %w", FormatOCSFNDJSON, account, err)
	}
	if n.flusher != nil {
		if err := n.flusher.Flush(); err != nil {
			return fmt.Errorf("flush %s events for account %s: %w", FormatOCSFNDJSON, account, err)
		}
	}
	return nil
}

// Close writes the rows still held (all of them without Start) and the
// report's rows never passed to WriteRow, by account id, then the
// resolved findings.
func (n *ocsfNDJSONWriter) Close(rep *scan.Report) error {
	if err := n.begin(FormatOCSFNDJSON, rep); err != nil {
		return err
	}
	held := make(map[string]*scan.Row, len(n.pending))
	for i := range n.pending {
		held[n.pending[i].AccountID] = &n.pending[i]
	}
	for r := range rep.Rows().All() {
		if h := held[r.AccountID]; h != nil {
			delete(held, r.AccountID)
			r = h
		} else if n.written[r.AccountID] {
			continue
		}
		n.written[r.AccountID] = true
		if err := n.writeRow(r, &rep.Scan); err != nil {
			return err
		}
	}
	// Rows handed over that the report does not hold (a scan that
	// discarded its rows) are written all the same, by account id.
	for _, id := range slices.Sorted(maps.Keys(held)) {
		if err := n.writeRow(held[id], &rep.Scan); err != nil {
			return err
		}
	}
	n.pending = nil
	return n.writeEvents(resolvedEvents(n.resolved, rep))
}
