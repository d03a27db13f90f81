package examples_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/cloudwatch"
	"github.com/awslabs/goformation/v7/cloudformation/ecs"
	"github.com/awslabs/goformation/v7/cloudformation/events"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/kms"
	cwlogs "github.com/awslabs/goformation/v7/cloudformation/logs"
	"github.com/awslabs/goformation/v7/cloudformation/s3"
	"github.com/awslabs/goformation/v7/cloudformation/scheduler"
	"github.com/awslabs/goformation/v7/cloudformation/sns"
	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/orgscan/orgscan/pkg/scan"
)

const (
	scheduledTemplate = "scheduled/orgscan-scheduled.yaml"
	stacksetTemplate  = "stackset/audit-role.yaml"
	auditTaskPolicy   = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
	deleteTaskPolicy  = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
)

// Templates are parsed sequentially: goformation registers its YAML tag
// resolvers in a package-level map on every parse, so no test here runs in
// parallel with another.

// goformation resolves intrinsic functions the way a deployment would (a Ref
// becomes a parameter's default, a GetAtt becomes nothing), which erases the
// very references these tests check. The handlers below record every
// reference instead and leave a marker naming its target in the typed
// template, so "the schedule targets the cluster" is a comparison of strings.

func refMarker(name string) string    { return "{{Ref:" + name + "}}" }
func getAttMarker(expr string) string { return "{{GetAtt:" + expr + "}}" }

var markerPattern = regexp.MustCompile(`^\{\{(Ref|GetAtt):([^.}]+)(?:\.([^}]+))?\}\}$`)

// target returns the logical id a marker points at.
func target(marker string) (logicalID string, ok bool) {
	m := markerPattern.FindStringSubmatch(marker)
	if m == nil {
		return "", false
	}
	return m[2], true
}

var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// ${Name} and ${Name.Attr} in Fn::Sub; ${!Literal} is an escape, not a reference.
var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

type recorder struct {
	refs       []string // Ref targets and ${Name} in Fn::Sub
	getAtts    []string // logical ids named by Fn::GetAtt and ${Name.Attr}
	conditions []string // conditions named by Fn::If
	ifs        []ifCall
	problems   []string // intrinsic functions CloudFormation would reject
}

// ifCall is one Fn::If as written: its condition and both branches.
type ifCall struct {
	condition string
	then, els any
}

func (r *recorder) handlers() map[string]intrinsics.IntrinsicHandler {
	keep := func(name string, input, _ any) any { return map[string]any{name: input} }
	return map[string]intrinsics.IntrinsicHandler{
		"Ref":        r.ref,
		"Fn::GetAtt": r.getAtt,
		"Fn::Sub":    r.sub,
		"Fn::If":     r.fnIf,
		// Condition expressions stay as written so tests can read what a
		// condition depends on.
		"Fn::Equals": keep,
		"Fn::Not":    keep,
		"Fn::And":    keep,
		"Fn::Or":     keep,
	}
}

func (r *recorder) ref(_ string, input, template any) any {
	name, ok := input.(string)
	if !ok {
		r.problems = append(r.problems, fmt.Sprintf("Ref of a %T: want a name", input))
		return nil
	}
	r.refs = append(r.refs, name)
	if name == "AWS::NoValue" {
		return nil
	}
	if p, ok := rawParameter(template, name); ok {
		kind, _ := p["Type"].(string)
		switch {
		case kind == "Number":
			// Typed numeric properties (RetentionInDays) need a number.
			return p["Default"]
		case strings.HasPrefix(kind, "List<") || kind == "CommaDelimitedList":
			return []any{refMarker(name)}
		}
	}
	return refMarker(name)
}

func (r *recorder) getAtt(_ string, input, _ any) any {
	var expr string
	switch v := input.(type) {
	case string:
		expr = v
	case []any:
		if len(v) == 2 {
			logical, _ := v[0].(string)
			attr, _ := v[1].(string)
			expr = logical + "." + attr
		}
	}
	logical, _, found := strings.Cut(expr, ".")
	if !found || logical == "" {
		r.problems = append(r.problems, fmt.Sprintf("Fn::GetAtt of %v: want Logical.Attribute", input))
		return nil
	}
	r.getAtts = append(r.getAtts, logical)
	return getAttMarker(expr)
}

func (r *recorder) sub(_ string, input, _ any) any {
	var text string
	var locals map[string]any
	switch v := input.(type) {
	case string:
		text = v
	case []any:
		if len(v) == 2 {
			text, _ = v[0].(string)
			locals, _ = v[1].(map[string]any)
		}
	}
	if text == "" {
		r.problems = append(r.problems, fmt.Sprintf("Fn::Sub of %v: want a string or [string, variables]", input))
		return nil
	}
	for _, m := range subVariable.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if _, local := locals[name]; local {
			continue
		}
		if logical, _, isAttr := strings.Cut(name, "."); isAttr {
			r.getAtts = append(r.getAtts, logical)
		} else {
			r.refs = append(r.refs, name)
		}
	}
	return text
}

// fnIf renders the first branch that is not AWS::NoValue, so conditional
// statements and flags are present in the typed template and get checked.
func (r *recorder) fnIf(_ string, input, _ any) any {
	args, ok := input.([]any)
	if !ok || len(args) != 3 {
		r.problems = append(r.problems, fmt.Sprintf("Fn::If of %v: want [condition, then, else]", input))
		return nil
	}
	name, ok := args[0].(string)
	if !ok {
		r.problems = append(r.problems, fmt.Sprintf("Fn::If condition %v: want a name", args[0]))
		return nil
	}
	r.conditions = append(r.conditions, name)
	r.ifs = append(r.ifs, ifCall{condition: name, then: args[1], els: args[2]})
	if args[1] != nil {
		return args[1]
	}
	return args[2]
}

func rawParameter(template any, name string) (map[string]any, bool) {
	root, _ := template.(map[string]any)
	params, _ := root["Parameters"].(map[string]any)
	p, ok := params[name].(map[string]any)
	return p, ok
}

type parsedTemplate struct {
	*cloudformation.Template
	rec *recorder
}

func parseTemplate(t *testing.T, data []byte) (parsedTemplate, error) {
	t.Helper()
	rec := &recorder{}
	tmpl, err := goformation.ParseYAMLWithOptions(data, &intrinsics.ProcessorOptions{
		IntrinsicHandlerOverrides: rec.handlers(),
	})
	if err != nil {
		return parsedTemplate{}, err
	}
	return parsedTemplate{Template: tmpl, rec: rec}, nil
}

func mustParseTemplate(t *testing.T, path string) parsedTemplate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	p, err := parseTemplate(t, data)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return p
}

// referenceProblems lists every Ref, GetAtt, Sub variable, condition and
// DependsOn that points at nothing, and every parameter or condition that
// nothing uses.
func referenceProblems(p parsedTemplate) []string {
	problems := slices.Clone(p.rec.problems)
	usedConditions := map[string]bool{}
	for _, name := range p.rec.refs {
		_, isParam := p.Parameters[name]
		_, isResource := p.Resources[name]
		if !isParam && !isResource && !slices.Contains(pseudoParameters, name) {
			problems = append(problems, fmt.Sprintf("reference to %s, which is no parameter, resource or pseudo parameter", name))
		}
	}
	for _, name := range p.rec.getAtts {
		if _, ok := p.Resources[name]; !ok {
			problems = append(problems, fmt.Sprintf("attribute of %s, which is no resource", name))
		}
	}
	for _, name := range p.rec.conditions {
		usedConditions[name] = true
		if _, ok := p.Conditions[name]; !ok {
			problems = append(problems, fmt.Sprintf("Fn::If on %s, which is no condition", name))
		}
	}
	for logical, res := range p.Resources {
		v := reflect.ValueOf(res).Elem()
		if cond := v.FieldByName("AWSCloudFormationCondition").String(); cond != "" {
			usedConditions[cond] = true
			if _, ok := p.Conditions[cond]; !ok {
				problems = append(problems, fmt.Sprintf("resource %s has condition %s, which does not exist", logical, cond))
			}
		}
		for _, dep := range v.FieldByName("AWSCloudFormationDependsOn").Interface().([]string) {
			if _, ok := p.Resources[dep]; !ok {
				problems = append(problems, fmt.Sprintf("resource %s depends on %s, which is no resource", logical, dep))
			}
		}
	}
	for name := range p.Parameters {
		if !slices.Contains(p.rec.refs, name) {
			problems = append(problems, fmt.Sprintf("parameter %s is never used", name))
		}
	}
	for name := range p.Conditions {
		if !usedConditions[name] {
			problems = append(problems, fmt.Sprintf("condition %s is never used", name))
		}
	}
	sort.Strings(problems)
	return problems
}

func TestReferenceCheckFindsDanglingReferences(t *testing.T) {
	// A sound template; each case swaps one line for a broken one.
	const sound = `
Parameters:
  Name: {Type: String}
Conditions:
  Always: !Equals [!Ref Name, x]
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Condition: Always
    Properties:
      TopicName: !Ref Name
  Sub:
    Type: AWS::SNS::Subscription
    DependsOn: Topic
    Properties: {TopicArn: !Ref Topic, Protocol: email, Endpoint: x@example.com}
`
	cases := []struct {
		name     string
		old, new string
		want     string // "" when the template stays sound
	}{
		{"a sound template passes", "", "", ""},
		{"a Ref to a missing resource is reported", "TopicArn: !Ref Topic", "TopicArn: !Ref Nowhere", "reference to Nowhere"},
		{"a GetAtt of a missing resource is reported", "TopicArn: !Ref Topic", "TopicArn: !GetAtt Nowhere.TopicArn", "attribute of Nowhere"},
		{"a Sub variable naming nothing is reported", "Endpoint: x@example.com", `Endpoint: !Sub "${Missing}@example.com"`, "reference to Missing"},
		{"a Sub attribute of a missing resource is reported", "TopicArn: !Ref Topic", `TopicArn: !Sub "${Gone.TopicArn}"`, "attribute of Gone"},
		{"an escaped Sub variable is no reference", "Endpoint: x@example.com", `Endpoint: !Sub "${!Literal}@example.com"`, ""},
		{"an Fn::If on a missing condition is reported", "TopicArn: !Ref Topic", "TopicArn: !If [Never, !Ref Topic, !Ref Topic]", "Fn::If on Never"},
		{"a resource condition that does not exist is reported", "Condition: Always", "Condition: Sometimes", "condition Sometimes, which does not exist"},
		{"a DependsOn naming nothing is reported", "DependsOn: Topic", "DependsOn: Ghost", "depends on Ghost"},
		{"an unused parameter is reported", "  Name: {Type: String}", "  Name: {Type: String}\n  Spare: {Type: String}", "parameter Spare is never used"},
		{"an unused condition is reported", "  Always: !Equals [!Ref Name, x]", "  Always: !Equals [!Ref Name, x]\n  Unused: !Equals [!Ref Name, y]", "condition Unused is never used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := sound
			if c.old != "" {
				if !strings.Contains(src, c.old) {
					t.Fatalf("the sound template has no %q", c.old)
				}
				src = strings.Replace(src, c.old, c.new, 1)
			}
			p, err := parseTemplate(t, []byte(src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			problems := referenceProblems(p)
			if c.want == "" {
				if len(problems) != 0 {
					t.Fatalf("sound template reported %q", problems)
				}
				return
			}
			if !slices.ContainsFunc(problems, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Fatalf("problems %q do not mention %q", problems, c.want)
			}
		})
	}
}

func TestTemplatesReferenceOnlyWhatExists(t *testing.T) {
	for _, path := range []string{scheduledTemplate, stacksetTemplate} {
		t.Run(path+" resolves every reference and uses every parameter", func(t *testing.T) {
			p := mustParseTemplate(t, path)
			if len(p.rec.refs) == 0 || len(p.rec.getAtts) == 0 {
				t.Fatalf("recorded %d refs and %d attributes: the intrinsic handlers did not run", len(p.rec.refs), len(p.rec.getAtts))
			}
			if problems := referenceProblems(p); len(problems) > 0 {
				t.Fatalf("%s:\n  %s", path, strings.Join(problems, "\n  "))
			}
		})
	}
}

// ---------------------------------------------------------------- policies

type statement struct {
	Sid        string
	Effect     string
	Principal  any
	Actions    []string
	NotActions []string
	Resources  []string
	Conditions map[string]map[string][]string // operator -> key -> values
}

func stringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if e != nil {
				out = append(out, fmt.Sprint(e))
			}
		}
		return out
	case []string:
		return x
	}
	return []string{fmt.Sprint(v)}
}

// statements reads a policy document, from JSON or from a template, and
// leaves out the statements that an Fn::If removed.
func statements(t *testing.T, doc any) (version string, out []statement) {
	t.Helper()
	m, ok := doc.(map[string]any)
	if !ok {
		t.Fatalf("policy document is a %T, want an object", doc)
	}
	version, _ = m["Version"].(string)
	var raw []any
	switch s := m["Statement"].(type) {
	case []any:
		raw = s
	case map[string]any:
		raw = []any{s}
	default:
		t.Fatalf("policy Statement is a %T", m["Statement"])
	}
	for _, r := range raw {
		if r == nil {
			continue
		}
		sm, ok := r.(map[string]any)
		if !ok {
			t.Fatalf("statement is a %T, want an object", r)
		}
		st := statement{Principal: sm["Principal"], Conditions: map[string]map[string][]string{}}
		st.Sid, _ = sm["Sid"].(string)
		st.Effect, _ = sm["Effect"].(string)
		st.Actions = stringList(sm["Action"])
		st.NotActions = stringList(sm["NotAction"])
		st.Resources = stringList(sm["Resource"])
		if conds, ok := sm["Condition"].(map[string]any); ok {
			for op, raw := range conds {
				kv, ok := raw.(map[string]any)
				if !ok {
					t.Fatalf("statement %q: condition %s is a %T, want an object", st.Sid, op, raw)
				}
				st.Conditions[op] = map[string][]string{}
				for k, v := range kv {
					st.Conditions[op][k] = stringList(v)
				}
			}
		}
		if _, ok := sm["NotResource"]; ok {
			t.Errorf("statement %q uses NotResource", st.Sid)
		}
		out = append(out, st)
	}
	return version, out
}

func actionSet(sts []statement) []string {
	var out []string
	for _, s := range sts {
		if s.Effect == "Allow" {
			out = append(out, s.Actions...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func readPolicyFile(t *testing.T, name string) []statement {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("iam", name))
	if err != nil {
		t.Fatalf("read policy: %v", err)
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("iam/%s is not JSON: %v", name, err)
	}
	version, sts := statements(t, doc)
	if version != "2012-10-17" {
		t.Fatalf("iam/%s has Version %q, want 2012-10-17", name, version)
	}
	return sts
}

func wildcardActions(sts []statement) []string {
	var out []string
	for _, s := range sts {
		for _, a := range s.Actions {
			if strings.Contains(a, "*") {
				out = append(out, a)
			}
		}
		if len(s.NotActions) > 0 {
			out = append(out, "NotAction in "+s.Sid)
		}
	}
	return out
}

func TestIAMPoliciesAreLeastPrivilegeDocuments(t *testing.T) {
	files, err := filepath.Glob("iam/*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"member-audit-role-details-permissions.json", "member-audit-role-permissions.json", "member-audit-role.json",
		"remediate-policy.json", "s3-writer-policy.json", "scanner-policy-assume-role.json", "scanner-policy-assume-root.json",
		"scanner-policy-owners.json",
	}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("iam/ holds %q, want %q", got, want)
	}
	for _, name := range want {
		t.Run(name+" is a 2012-10-17 policy without wildcard actions", func(t *testing.T) {
			sts := readPolicyFile(t, name)
			if len(sts) == 0 {
				t.Fatal("no statements")
			}
			for _, s := range sts {
				if s.Effect != "Allow" {
					t.Errorf("statement %q has Effect %q", s.Sid, s.Effect)
				}
				if s.Sid == "" || len(s.Actions) == 0 {
					t.Errorf("statement %+v lacks a Sid or actions", s)
				}
			}
			if w := wildcardActions(sts); len(w) > 0 {
				t.Errorf("wildcard actions %q", w)
			}
		})
	}
}

func TestAssumeRootPolicyAllowsOnlyTheAuditTaskPolicy(t *testing.T) {
	sts := readPolicyFile(t, "scanner-policy-assume-root.json")
	var found int
	for _, s := range sts {
		if !slices.Contains(s.Actions, "sts:AssumeRoot") {
			continue
		}
		found++
		if !slices.Equal(s.Actions, []string{"sts:AssumeRoot"}) {
			t.Errorf("AssumeRoot shares a statement with %q", s.Actions)
		}
		if !slices.Equal(s.Resources, []string{"arn:aws:iam::*:root"}) {
			t.Errorf("AssumeRoot resources %q, want the member accounts' root user", s.Resources)
		}
		want := map[string]map[string][]string{"StringEquals": {"sts:TaskPolicyArn": {auditTaskPolicy}}}
		if !reflect.DeepEqual(s.Conditions, want) {
			t.Errorf("AssumeRoot conditions %v, want only sts:TaskPolicyArn = %s", s.Conditions, auditTaskPolicy)
		}
	}
	if found != 1 {
		t.Fatalf("%d statements allow sts:AssumeRoot, want 1", found)
	}
	if !slices.Contains(actionSet(sts), "iam:ListOrganizationsFeatures") {
		t.Error("the assume-root policy cannot read the organization's root access features")
	}
}

// TestRemediatePolicyAllowsOnlyTheTwoTaskPolicies: the principal that runs
// orgscan remediate may open root sessions scoped by the audit task policy
// (to plan) and the delete task policy (to apply), and by no other: the
// root sessions of the other tasks (recreating a password, unlocking
// bucket and queue policies) stay out of its reach.
func TestRemediatePolicyAllowsOnlyTheTwoTaskPolicies(t *testing.T) {
	sts := readPolicyFile(t, "remediate-policy.json")
	var found int
	for _, s := range sts {
		if !slices.Contains(s.Actions, "sts:AssumeRoot") {
			continue
		}
		found++
		if !slices.Equal(s.Actions, []string{"sts:AssumeRoot"}) {
			t.Errorf("AssumeRoot shares a statement with %q", s.Actions)
		}
		if !slices.Equal(s.Resources, []string{"arn:aws:iam::*:root"}) {
			t.Errorf("AssumeRoot resources %q, want the member accounts' root user", s.Resources)
		}
		want := map[string]map[string][]string{"StringEquals": {"sts:TaskPolicyArn": {auditTaskPolicy, deleteTaskPolicy}}}
		if !reflect.DeepEqual(s.Conditions, want) {
			t.Errorf("AssumeRoot conditions %v, want only sts:TaskPolicyArn = %s or %s", s.Conditions, auditTaskPolicy, deleteTaskPolicy)
		}
	}
	if found != 1 {
		t.Fatalf("%d statements allow sts:AssumeRoot, want 1", found)
	}
	actions := actionSet(sts)
	for _, a := range []string{"iam:ListOrganizationsFeatures", "organizations:DescribeOrganization", "organizations:ListAccountsForParent"} {
		if !slices.Contains(actions, a) {
			t.Errorf("the remediate policy lacks %s, which planning needs", a)
		}
	}
	for _, a := range actions {
		if strings.HasPrefix(a, "iam:") && a != "iam:ListOrganizationsFeatures" {
			t.Errorf("the remediate policy allows %s in the caller's own account; deletions belong in root sessions only", a)
		}
	}
}

// TestOwnersPolicyReadsOnlyTagsOfAccountsAndSecurityContacts: --tags and
// --contacts need two actions more than a scan, kept apart so that a scan
// without them is granted neither: tags of the organization's accounts
// only (not of OUs, policies or the root), and alternate contacts of the
// SECURITY type only (account:AlternateContactTypes), of the caller's own
// account and the organization's (the Service Authorization Reference's
// account and accountInOrganization resource types).
func TestOwnersPolicyReadsOnlyTagsOfAccountsAndSecurityContacts(t *testing.T) {
	sts := readPolicyFile(t, "scanner-policy-owners.json")
	if got, want := actionSet(sts), []string{"account:GetAlternateContact", "organizations:ListTagsForResource"}; !slices.Equal(got, want) {
		t.Fatalf("the owners policy allows %q, want %q", got, want)
	}
	for _, s := range sts {
		switch {
		case slices.Equal(s.Actions, []string{"organizations:ListTagsForResource"}):
			if !slices.Equal(s.Resources, []string{"arn:aws:organizations::*:account/o-*/*"}) || len(s.Conditions) != 0 {
				t.Errorf("ListTagsForResource on %q (conditions %v), want the organization's accounts only", s.Resources, s.Conditions)
			}
		case slices.Equal(s.Actions, []string{"account:GetAlternateContact"}):
			if !slices.Equal(s.Resources, []string{"arn:aws:account::*:account", "arn:aws:account::*:account/o-*/*"}) {
				t.Errorf("GetAlternateContact on %q, want the caller's own account and the organization's", s.Resources)
			}
			want := map[string]map[string][]string{"ForAnyValue:StringEquals": {"account:AlternateContactTypes": {"SECURITY"}}}
			if !reflect.DeepEqual(s.Conditions, want) {
				t.Errorf("GetAlternateContact conditions %v, want the SECURITY contact only", s.Conditions)
			}
		default:
			t.Errorf("statement %q mixes actions %q", s.Sid, s.Actions)
		}
	}
	// A scan without --tags or --contacts is granted neither.
	for _, f := range []string{"scanner-policy-assume-role.json", "scanner-policy-assume-root.json"} {
		for _, a := range actionSet(readPolicyFile(t, f)) {
			if a == "organizations:ListTagsForResource" || strings.HasPrefix(a, "account:") {
				t.Errorf("%s allows %s, which only --tags and --contacts need", f, a)
			}
		}
	}
}

func TestMemberAuditRoleIsMinimalAndTrustsOnlyWithTheExternalId(t *testing.T) {
	trust := readPolicyFile(t, "member-audit-role.json")
	if len(trust) != 1 {
		t.Fatalf("trust policy has %d statements, want 1", len(trust))
	}
	s := trust[0]
	principal, _ := s.Principal.(map[string]any)
	if !slices.Equal(s.Actions, []string{"sts:AssumeRole"}) || principal["AWS"] == nil {
		t.Errorf("trust statement %+v does not let an AWS account principal assume the role", s)
	}
	if ids := s.Conditions["StringEquals"]["sts:ExternalId"]; len(ids) != 1 || ids[0] == "" {
		t.Errorf("trust conditions %v do not require sts:ExternalId", s.Conditions)
	}

	minimal := actionSet(readPolicyFile(t, "member-audit-role-permissions.json"))
	if !slices.Equal(minimal, []string{"iam:GetAccountSummary"}) {
		t.Errorf("minimal audit role allows %q, want only iam:GetAccountSummary", minimal)
	}
	details := actionSet(readPolicyFile(t, "member-audit-role-details-permissions.json"))
	wantDetails := []string{"iam:GenerateCredentialReport", "iam:GetAccountSummary", "iam:GetCredentialReport"}
	if !slices.Equal(details, wantDetails) {
		t.Errorf("details audit role allows %q, want %q", details, wantDetails)
	}
}

func TestScannerPoliciesScopeTheirTargets(t *testing.T) {
	for _, s := range readPolicyFile(t, "scanner-policy-assume-role.json") {
		if slices.Contains(s.Actions, "sts:AssumeRole") {
			if !slices.Equal(s.Resources, []string{"arn:aws:iam::*:role/OrgScanAuditRole"}) {
				t.Errorf("sts:AssumeRole on %q, want the audit role only", s.Resources)
			}
		}
	}
	for _, s := range readPolicyFile(t, "s3-writer-policy.json") {
		for _, r := range s.Resources {
			if r == "*" {
				t.Errorf("S3 writer statement %q applies to every resource", s.Sid)
			}
		}
		if slices.Contains(s.Actions, "s3:ListBucket") && len(s.Conditions["StringLike"]["s3:prefix"]) == 0 {
			t.Errorf("s3:ListBucket is not limited to the report prefix")
		}
	}
}

// ---------------------------------------------------------------- stackset

// accepts applies a parameter's constraints the way CloudFormation
// does: the pattern must match the whole value.
func accepts(p cloudformation.Parameter, v string) bool {
	if p.MinLength != nil && len(v) < *p.MinLength {
		return false
	}
	if p.MaxLength != nil && len(v) > *p.MaxLength {
		return false
	}
	if p.AllowedPattern == nil {
		return true
	}
	return regexp.MustCompile(`^(?:` + *p.AllowedPattern + `)$`).MatchString(v)
}

func TestStackSetExternalIdFollowsAWSRules(t *testing.T) {
	p := mustParseTemplate(t, stacksetTemplate)
	param, ok := p.Parameters["ExternalId"]
	if !ok {
		t.Fatal("no ExternalId parameter")
	}
	if param.NoEcho == nil || !*param.NoEcho {
		t.Error("ExternalId is echoed")
	}
	cases := []struct {
		name  string
		value string
		want  bool
	}{
		{"two characters are accepted", "ab", true},
		{"every allowed punctuation mark is accepted", "orgscan_prod+eu=1,x.y@z:w/v-u", true},
		{"the longest allowed value is accepted", strings.Repeat("x", 1224), true},
		{"one character is rejected", "a", false},
		{"1225 characters are rejected", strings.Repeat("x", 1225), false},
		{"a space is rejected", "org scan", false},
		{"a semicolon is rejected", "org;scan", false},
		{"a quote is rejected", `org"scan`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := accepts(param, c.value); got != c.want {
				t.Fatalf("accepts(%.20q...) = %v, want %v", c.value, got, c.want)
			}
		})
	}
}

func TestStackSetRoleTrustsTheManagementAccountWithExternalId(t *testing.T) {
	p := mustParseTemplate(t, stacksetTemplate)
	roles := resourcesOf[*iam.Role](p)
	if len(roles) != 1 {
		t.Fatalf("%d roles, want 1", len(roles))
	}
	var roleID string
	var role *iam.Role
	for id, r := range roles {
		roleID, role = id, r
	}
	if role.RoleName == nil || *role.RoleName != refMarker("RoleName") {
		t.Errorf("role name %v, want the RoleName parameter", role.RoleName)
	}
	version, trust := statements(t, role.AssumeRolePolicyDocument)
	if version != "2012-10-17" || len(trust) != 1 {
		t.Fatalf("trust policy version %q with %d statements", version, len(trust))
	}
	principal, _ := trust[0].Principal.(map[string]any)
	aws, _ := principal["AWS"].(string)
	if !strings.Contains(aws, "${ManagementAccountId}") || !slices.Equal(trust[0].Actions, []string{"sts:AssumeRole"}) {
		t.Errorf("trust %+v does not let the ManagementAccountId account assume the role", trust[0])
	}
	if got := trust[0].Conditions["StringEquals"]["sts:ExternalId"]; !slices.Equal(got, []string{refMarker("ExternalId")}) {
		t.Errorf("trust requires external id %q, want the ExternalId parameter", got)
	}

	var inline []statement
	for _, pol := range role.Policies {
		_, sts := statements(t, pol.PolicyDocument)
		inline = append(inline, sts...)
	}
	if got, want := actionSet(inline), actionSet(readPolicyFile(t, "member-audit-role-permissions.json")); !slices.Equal(got, want) {
		t.Errorf("role allows %q, want %q as in iam/member-audit-role-permissions.json", got, want)
	}

	details := slices.Clone(inline)
	for id, rp := range resourcesOf[*iam.RolePolicy](p) {
		if rp.RoleName != refMarker(roleID) {
			t.Errorf("policy %s attaches to %q, want the audit role", id, rp.RoleName)
		}
		cond, ok := p.Conditions[rp.AWSCloudFormationCondition]
		if !ok || !strings.Contains(fmt.Sprint(cond), refMarker("IncludeDetails")) {
			t.Errorf("policy %s is not conditional on IncludeDetails: the minimal role would not stay minimal", id)
		}
		_, sts := statements(t, rp.PolicyDocument)
		details = append(details, sts...)
	}
	if got, want := actionSet(details), actionSet(readPolicyFile(t, "member-audit-role-details-permissions.json")); !slices.Equal(got, want) {
		t.Errorf("role with details allows %q, want %q as in iam/member-audit-role-details-permissions.json", got, want)
	}
}

// ---------------------------------------------------------------- scheduled

func resourcesOf[T cloudformation.Resource](p parsedTemplate) map[string]T {
	out := map[string]T{}
	for id, r := range p.Resources {
		if v, ok := r.(T); ok {
			out[id] = v
		}
	}
	return out
}

// pointee returns the resource a marker points at, as a T.
func pointee[T cloudformation.Resource](t *testing.T, p parsedTemplate, marker string) (string, T) {
	t.Helper()
	var zero T
	id, ok := target(marker)
	if !ok {
		t.Fatalf("%q is no reference to a resource", marker)
	}
	v, ok := p.Resources[id].(T)
	if !ok {
		t.Fatalf("%q points at %T, want %T", marker, p.Resources[id], zero)
	}
	return id, v
}

// only returns the one resource of a type.
func only[T any](t *testing.T, m map[string]T) (id string, v T) {
	t.Helper()
	if len(m) != 1 {
		t.Fatalf("%d resources of type %T, want 1", len(m), v)
	}
	for id, v := range m {
		return id, v
	}
	return id, v // unreachable: Fatalf stopped the test
}

func rolePolicyStatements(t *testing.T, role *iam.Role) []statement {
	t.Helper()
	var out []statement
	for _, pol := range role.Policies {
		version, sts := statements(t, pol.PolicyDocument)
		if version != "2012-10-17" {
			t.Errorf("policy %s has Version %q", pol.PolicyName, version)
		}
		out = append(out, sts...)
	}
	return out
}

func trustedService(t *testing.T, role *iam.Role) string {
	t.Helper()
	_, trust := statements(t, role.AssumeRolePolicyDocument)
	if len(trust) != 1 {
		t.Fatalf("trust policy has %d statements, want 1", len(trust))
	}
	principal, _ := trust[0].Principal.(map[string]any)
	service, _ := principal["Service"].(string)
	return service
}

type scheduled struct {
	parsedTemplate
	schedule      *scheduler.Schedule
	clusterID     string
	taskDefID     string
	taskDef       *ecs.TaskDefinition
	container     ecs.TaskDefinition_ContainerDefinition
	schedulerRole *iam.Role
}

func loadScheduled(t *testing.T) scheduled {
	t.Helper()
	s := scheduled{parsedTemplate: mustParseTemplate(t, scheduledTemplate)}
	_, s.schedule = only(t, resourcesOf[*scheduler.Schedule](s.parsedTemplate))
	if s.schedule.Target == nil || s.schedule.Target.EcsParameters == nil {
		t.Fatal("the schedule has no ECS target")
	}
	s.clusterID, _ = pointee[*ecs.Cluster](t, s.parsedTemplate, s.schedule.Target.Arn)
	s.taskDefID, s.taskDef = pointee[*ecs.TaskDefinition](t, s.parsedTemplate, s.schedule.Target.EcsParameters.TaskDefinitionArn)
	if len(s.taskDef.ContainerDefinitions) != 1 {
		t.Fatalf("task definition has %d containers, want 1", len(s.taskDef.ContainerDefinitions))
	}
	s.container = s.taskDef.ContainerDefinitions[0]
	_, s.schedulerRole = pointee[*iam.Role](t, s.parsedTemplate, s.schedule.Target.RoleArn)
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestScheduleRunsTheTaskOnFargate(t *testing.T) {
	s := loadScheduled(t)
	ecsParams := s.schedule.Target.EcsParameters
	if deref(ecsParams.LaunchType) != "FARGATE" {
		t.Errorf("launch type %q, want FARGATE", deref(ecsParams.LaunchType))
	}
	if s.schedule.Target.Arn != getAttMarker(s.clusterID+".Arn") {
		t.Errorf("schedule targets %q, want the cluster's ARN", s.schedule.Target.Arn)
	}
	net := ecsParams.NetworkConfiguration
	if net == nil || net.AwsvpcConfiguration == nil {
		t.Fatal("the schedule has no awsvpc network configuration")
	}
	vpc := net.AwsvpcConfiguration
	if !slices.Equal(vpc.Subnets, []string{refMarker("Subnets")}) ||
		!slices.Equal(vpc.SecurityGroups, []string{refMarker("SecurityGroups")}) ||
		deref(vpc.AssignPublicIp) != refMarker("AssignPublicIp") {
		t.Errorf("network %+v does not come from the Subnets, SecurityGroups and AssignPublicIp parameters", vpc)
	}
	if !slices.Equal(s.taskDef.RequiresCompatibilities, []string{"FARGATE"}) || deref(s.taskDef.NetworkMode) != "awsvpc" {
		t.Errorf("task definition is not a Fargate awsvpc task")
	}
}

func TestSchedulerRoleRunsOnlyTheTaskAndPassesOnlyItsRoles(t *testing.T) {
	s := loadScheduled(t)
	if got := trustedService(t, s.schedulerRole); got != "scheduler.amazonaws.com" {
		t.Errorf("scheduler role trusts %q", got)
	}
	sts := rolePolicyStatements(t, s.schedulerRole)
	if got := actionSet(sts); !slices.Equal(got, []string{"ecs:RunTask", "iam:PassRole"}) {
		t.Fatalf("scheduler role allows %q, want ecs:RunTask and iam:PassRole", got)
	}
	wantRoles := []string{deref(s.taskDef.ExecutionRoleArn), deref(s.taskDef.TaskRoleArn)}
	sort.Strings(wantRoles)
	for _, arn := range wantRoles {
		pointee[*iam.Role](t, s.parsedTemplate, arn)
	}
	if wantRoles[0] == wantRoles[1] {
		t.Fatalf("task and execution role are both %q", wantRoles[0])
	}
	for _, st := range sts {
		switch {
		case slices.Contains(st.Actions, "ecs:RunTask"):
			if !slices.Equal(st.Resources, []string{refMarker(s.taskDefID)}) {
				t.Errorf("ecs:RunTask on %q, want the task definition", st.Resources)
			}
			if got := st.Conditions["ArnEquals"]["ecs:cluster"]; !slices.Equal(got, []string{getAttMarker(s.clusterID + ".Arn")}) {
				t.Errorf("ecs:RunTask limited to cluster %q, want the stack's cluster", got)
			}
		case slices.Contains(st.Actions, "iam:PassRole"):
			got := slices.Clone(st.Resources)
			sort.Strings(got)
			if !slices.Equal(got, wantRoles) {
				t.Errorf("iam:PassRole on %q, want exactly %q", got, wantRoles)
			}
			if got := st.Conditions["StringEquals"]["iam:PassedToService"]; !slices.Equal(got, []string{"ecs-tasks.amazonaws.com"}) {
				t.Errorf("roles may be passed to %q, want ECS tasks only", got)
			}
		}
	}
}

func TestReportsBucketIsEncryptedVersionedPrivateAndExpiring(t *testing.T) {
	s := loadScheduled(t)
	bucketID, bucket := only(t, resourcesOf[*s3.Bucket](s.parsedTemplate))

	if bucket.VersioningConfiguration == nil || bucket.VersioningConfiguration.Status != "Enabled" {
		t.Error("versioning is not enabled")
	}
	enc := bucket.BucketEncryption
	if enc == nil || len(enc.ServerSideEncryptionConfiguration) == 0 ||
		enc.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault == nil ||
		!slices.Contains([]string{"AES256", "aws:kms"}, enc.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm) {
		t.Error("default encryption is not AES256 or aws:kms")
	}
	pab := bucket.PublicAccessBlockConfiguration
	for name, v := range map[string]*bool{
		"BlockPublicAcls": pab.BlockPublicAcls, "BlockPublicPolicy": pab.BlockPublicPolicy,
		"IgnorePublicAcls": pab.IgnorePublicAcls, "RestrictPublicBuckets": pab.RestrictPublicBuckets,
	} {
		if v == nil || !*v {
			t.Errorf("public access block %s is not true", name)
		}
	}
	if oc := bucket.OwnershipControls; oc == nil || len(oc.Rules) != 1 || deref(oc.Rules[0].ObjectOwnership) != "BucketOwnerEnforced" {
		t.Error("object ownership is not BucketOwnerEnforced")
	}
	var archives bool
	if lc := bucket.LifecycleConfiguration; lc != nil {
		for _, r := range lc.Rules {
			if r.Status == "Enabled" && len(r.Transitions) > 0 && r.NoncurrentVersionExpiration != nil {
				archives = true
			}
		}
	}
	if !archives {
		t.Error("no enabled lifecycle rule both archives reports and expires old versions")
	}

	var tlsOnly bool
	for _, bp := range resourcesOf[*s3.BucketPolicy](s.parsedTemplate) {
		if bp.Bucket != refMarker(bucketID) {
			continue
		}
		_, sts := statements(t, bp.PolicyDocument)
		for _, st := range sts {
			if st.Effect == "Deny" && st.Principal == "*" &&
				slices.Equal(st.Conditions["Bool"]["aws:SecureTransport"], []string{"false"}) &&
				slices.Contains(st.Resources, getAttMarker(bucketID+".Arn")) &&
				slices.Contains(st.Resources, "${"+bucketID+".Arn}/*") {
				tlsOnly = true
			}
		}
	}
	if !tlsOnly {
		t.Error("no bucket policy denies requests without TLS to the bucket and its objects")
	}
}

func TestFailedTasksAlertThroughTheEncryptedTopic(t *testing.T) {
	s := loadScheduled(t)
	var rules []*events.Rule
	var ruleIDs []string
	for id, r := range resourcesOf[*events.Rule](s.parsedTemplate) {
		pattern, _ := r.EventPattern.(map[string]any)
		if slices.Contains(stringList(pattern["detail-type"]), "ECS Task State Change") {
			rules, ruleIDs = append(rules, r), append(ruleIDs, id)
		}
	}
	if len(rules) != 1 {
		t.Fatalf("%d rules watch ECS task state changes, want 1", len(rules))
	}
	rule, ruleID := rules[0], ruleIDs[0]
	pattern := rule.EventPattern.(map[string]any)
	detail, _ := pattern["detail"].(map[string]any)
	if !slices.Equal(stringList(pattern["source"]), []string{"aws.ecs"}) {
		t.Errorf("rule source %v, want aws.ecs", pattern["source"])
	}
	if !slices.Equal(stringList(detail["lastStatus"]), []string{"STOPPED"}) {
		t.Errorf("rule matches lastStatus %v, want STOPPED", detail["lastStatus"])
	}
	if !slices.Equal(stringList(detail["clusterArn"]), []string{getAttMarker(s.clusterID + ".Arn")}) {
		t.Errorf("rule matches clusters %v, want the stack's cluster", detail["clusterArn"])
	}
	nonZero := []any{map[string]any{"anything-but": []any{float64(0)}}}
	var filtersExitCode bool
	alternatives, _ := detail["$or"].([]any)
	for _, alt := range append(alternatives, detail) {
		m, _ := alt.(map[string]any)
		containers, _ := m["containers"].(map[string]any)
		if reflect.DeepEqual(containers["exitCode"], nonZero) {
			filtersExitCode = true
		}
	}
	if !filtersExitCode {
		t.Errorf("rule pattern %v does not match containers with a numeric exit code other than 0", detail)
	}

	var topicID string
	for _, tg := range rule.Targets {
		if id, ok := target(tg.Arn); ok {
			if _, isTopic := s.Resources[id].(*sns.Topic); isTopic {
				topicID = id
			}
		}
	}
	if topicID == "" {
		t.Fatalf("rule targets %+v include no SNS topic of the stack", rule.Targets)
	}
	topic := s.Resources[topicID].(*sns.Topic)
	keyID, _ := pointee[*kms.Key](t, s.parsedTemplate, deref(topic.KmsMasterKeyId))
	_, key := only(t, resourcesOf[*kms.Key](s.parsedTemplate))
	_, keyStatements := statements(t, key.KeyPolicy)
	var eventsMayEncrypt bool
	for _, st := range keyStatements {
		principal, _ := st.Principal.(map[string]any)
		if slices.Contains(stringList(principal["Service"]), "events.amazonaws.com") &&
			slices.Contains(st.Actions, "kms:GenerateDataKey*") && slices.Contains(st.Actions, "kms:Decrypt") {
			eventsMayEncrypt = true
		}
	}
	if !eventsMayEncrypt {
		t.Errorf("key %s does not let EventBridge publish to the encrypted topic", keyID)
	}

	var eventsMayPublish bool
	for _, tp := range resourcesOf[*sns.TopicPolicy](s.parsedTemplate) {
		if !slices.Contains(tp.Topics, refMarker(topicID)) {
			continue
		}
		_, sts := statements(t, tp.PolicyDocument)
		for _, st := range sts {
			principal, _ := st.Principal.(map[string]any)
			if principal["Service"] == "events.amazonaws.com" && slices.Contains(st.Actions, "sns:Publish") &&
				slices.Equal(st.Conditions["ArnEquals"]["aws:SourceArn"], []string{getAttMarker(ruleID + ".Arn")}) {
				eventsMayPublish = true
			}
		}
	}
	if !eventsMayPublish {
		t.Error("no topic policy lets the rule, and only the rule, publish to the topic")
	}

	var dropped bool
	for _, alarm := range resourcesOf[*cloudwatch.Alarm](s.parsedTemplate) {
		if deref(alarm.Namespace) == "AWS/Scheduler" && deref(alarm.MetricName) == "InvocationDroppedCount" &&
			slices.Contains(alarm.AlarmActions, refMarker(topicID)) &&
			len(alarm.Dimensions) == 1 && alarm.Dimensions[0].Value == deref(s.schedule.GroupName) {
			dropped = true
		}
	}
	if !dropped {
		t.Error("no alarm tells the topic when the scheduler could not start the task")
	}
}

func TestTaskRoleHasExactlyTheExamplePoliciesAndNoWildcards(t *testing.T) {
	s := loadScheduled(t)
	_, taskRole := pointee[*iam.Role](t, s.parsedTemplate, deref(s.taskDef.TaskRoleArn))
	if got := trustedService(t, taskRole); got != "ecs-tasks.amazonaws.com" {
		t.Errorf("task role trusts %q", got)
	}
	sts := rolePolicyStatements(t, taskRole)
	if w := wildcardActions(sts); len(w) > 0 {
		t.Errorf("task role has wildcard actions %q", w)
	}
	var want []statement
	for _, f := range []string{"scanner-policy-assume-role.json", "scanner-policy-assume-root.json", "s3-writer-policy.json"} {
		want = append(want, readPolicyFile(t, f)...)
	}
	if got, want := actionSet(sts), actionSet(want); !slices.Equal(got, want) {
		t.Errorf("task role allows %q, want %q as in the iam/ examples", got, want)
	}
	for _, st := range sts {
		if slices.Contains(st.Actions, "sts:AssumeRoot") {
			got := st.Conditions["StringEquals"]["sts:TaskPolicyArn"]
			if len(got) != 1 || !strings.HasSuffix(got[0], ":iam::aws:policy/root-task/IAMAuditRootUserCredentials") {
				t.Errorf("sts:AssumeRoot is not limited to the audit task policy: %v", st.Conditions)
			}
		}
	}

	_, execRole := pointee[*iam.Role](t, s.parsedTemplate, deref(s.taskDef.ExecutionRoleArn))
	execStatements := rolePolicyStatements(t, execRole)
	if w := wildcardActions(execStatements); len(w) > 0 {
		t.Errorf("execution role has wildcard actions %q", w)
	}
	for _, a := range actionSet(execStatements) {
		if !strings.HasPrefix(a, "ecr:") && !strings.HasPrefix(a, "logs:") {
			t.Errorf("execution role allows %s: it only pulls the image and writes the log", a)
		}
	}
}

// knownScanFlags are the flags of `orgscan scan`.
var knownScanFlags = []string{
	"--access", "--role-name", "--role-arn-template", "--external-id", "--session-name", "--duration",
	"--profile", "--region", "--endpoint-url", "--concurrency", "--account-timeout", "--ou", "--exclude-ou",
	"--accounts", "--accounts-file", "--exclude-accounts", "--include-inactive", "--details", "--recent-days",
	"--max-age-days", "--format", "--out", "--sse", "--sse-kms-key-id", "--expected-bucket-owner",
	"--fail-on-findings", "--baseline", "--quiet", "--log-format", "--debug",
}

var booleanScanFlags = []string{"--include-inactive", "--details", "--fail-on-findings", "--quiet", "--debug"}

func TestContainerRunsTheScanAndWritesWhereTheRoleMayWrite(t *testing.T) {
	s := loadScheduled(t)
	var args []string
	for _, a := range s.container.Command {
		if a != "" { // an Fn::If that rendered AWS::NoValue
			args = append(args, a)
		}
	}
	if len(args) == 0 || args[0] != "scan" {
		t.Fatalf("command %q does not start with scan", args)
	}
	flags := map[string]string{}
	for i := 1; i < len(args); i++ {
		name := args[i]
		if !slices.Contains(knownScanFlags, name) {
			t.Fatalf("command has %q, which orgscan scan does not know", name)
		}
		if slices.Contains(booleanScanFlags, name) {
			flags[name] = "true"
			continue
		}
		if i+1 >= len(args) {
			t.Fatalf("flag %s has no value", name)
		}
		flags[name] = args[i+1]
		i++
	}
	for flag, want := range map[string]string{
		"--format": "ndjson", "--quiet": "true", "--log-format": "json",
		"--expected-bucket-owner": refMarker("AWS::AccountId"), "--baseline": flags["--out"],
	} {
		if flags[flag] != want {
			t.Errorf("%s is %q, want %q", flag, flags[flag], want)
		}
	}
	// orgscan rejects role flags with --access assume-root (exit 2), so they
	// must come only through an Fn::If on the AccessMethod parameter.
	for _, flag := range []string{"--role-name", "--external-id"} {
		var guarded int
		for _, call := range s.rec.ifs {
			if call.then == flag && call.els == nil &&
				strings.Contains(fmt.Sprint(s.Conditions[call.condition]), refMarker("AccessMethod")) {
				guarded++
			}
		}
		if n := strings.Count(" "+strings.Join(args, " ")+" ", " "+flag+" "); n != guarded {
			t.Errorf("%s appears %d times, %d of them only when AccessMethod allows it", flag, n, guarded)
		}
	}
	bucketID, _ := only(t, resourcesOf[*s3.Bucket](s.parsedTemplate))
	out := flags["--out"]
	prefix, isPrefix := strings.CutPrefix(out, "s3://${"+bucketID+"}/")
	if !isPrefix || !strings.HasSuffix(prefix, "/") {
		t.Fatalf("--out %q is no prefix in the stack's bucket", out)
	}

	_, taskRole := pointee[*iam.Role](t, s.parsedTemplate, deref(s.taskDef.TaskRoleArn))
	objects := "${" + bucketID + ".Arn}/" + prefix + "*"
	for _, st := range rolePolicyStatements(t, taskRole) {
		for _, action := range []string{"s3:PutObject", "s3:GetObject"} {
			if slices.Contains(st.Actions, action) && !slices.Equal(st.Resources, []string{objects}) {
				t.Errorf("%s on %q, want %q where --out writes", action, st.Resources, objects)
			}
		}
		if slices.Contains(st.Actions, "s3:ListBucket") {
			if got := st.Conditions["StringLike"]["s3:prefix"]; !slices.Equal(got, []string{prefix + "*"}) {
				t.Errorf("s3:ListBucket limited to %q, want %q", got, prefix+"*")
			}
		}
	}

	logs := s.container.LogConfiguration
	if logs == nil || logs.LogDriver != "awslogs" {
		t.Fatal("the container does not log to CloudWatch Logs")
	}
	logGroupID, _ := pointee[*cwlogs.LogGroup](t, s.parsedTemplate, logs.Options["awslogs-group"])
	_, execRole := pointee[*iam.Role](t, s.parsedTemplate, deref(s.taskDef.ExecutionRoleArn))
	for _, st := range rolePolicyStatements(t, execRole) {
		if slices.Contains(st.Actions, "logs:PutLogEvents") && !slices.Equal(st.Resources, []string{getAttMarker(logGroupID + ".Arn")}) {
			t.Errorf("the execution role writes logs to %q, want the container's log group", st.Resources)
		}
	}
	if s.container.ReadonlyRootFilesystem == nil || !*s.container.ReadonlyRootFilesystem || deref(s.container.User) == "" {
		t.Error("the container runs with a writable root file system or as root")
	}
}

// ---------------------------------------------------------------- athena

// hiveType renders the Athena type that holds a Go value's JSON encoding.
// Struct fields are sorted so the comparison ignores declaration order.
func hiveType(t reflect.Type) string {
	if t == reflect.TypeOf(time.Time{}) {
		return "string" // RFC 3339; queries use from_iso8601_timestamp
	}
	if t == reflect.TypeOf(scan.Summary{}) {
		return "map<string,int>" // it marshals as the map of counters it holds
	}
	switch t.Kind() {
	case reflect.Pointer:
		return hiveType(t.Elem())
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return "int"
	case reflect.Int, reflect.Int64, reflect.Uint32:
		return "bigint"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.Slice:
		return "array<" + hiveType(t.Elem()) + ">"
	case reflect.Map:
		return "map<" + hiveType(t.Key()) + "," + hiveType(t.Elem()) + ">"
	case reflect.Struct:
		var fields []string
		for name, ft := range jsonFields(t) {
			fields = append(fields, name+":"+hiveType(ft))
		}
		sort.Strings(fields)
		return "struct<" + strings.Join(fields, ",") + ">"
	}
	panic("no Athena type for " + t.String())
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// canonicalHiveType normalises a type written in DDL: lower case, no
// spaces, struct fields sorted.
func canonicalHiveType(s string) (string, error) {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	typ, rest, err := parseHiveType(s)
	if err != nil {
		return "", err
	}
	if rest != "" {
		return "", fmt.Errorf("trailing %q after type", rest)
	}
	return typ, nil
}

func parseHiveType(s string) (typ, rest string, err error) {
	for _, generic := range []string{"array<", "map<", "struct<"} {
		if !strings.HasPrefix(s, generic) {
			continue
		}
		rest = s[len(generic):]
		var parts []string
		for {
			var part string
			if generic == "struct<" {
				name, after, ok := strings.Cut(rest, ":")
				if !ok {
					return "", "", fmt.Errorf("struct field without a type in %q", s)
				}
				var ft string
				if ft, rest, err = parseHiveType(after); err != nil {
					return "", "", err
				}
				part = name + ":" + ft
			} else if part, rest, err = parseHiveType(rest); err != nil {
				return "", "", err
			}
			parts = append(parts, part)
			if strings.HasPrefix(rest, ",") {
				rest = rest[1:]
				continue
			}
			if !strings.HasPrefix(rest, ">") {
				return "", "", fmt.Errorf("unclosed %s in %q", generic, s)
			}
			if generic == "struct<" {
				sort.Strings(parts)
			}
			return generic + strings.Join(parts, ",") + ">", rest[1:], nil
		}
	}
	end := strings.IndexAny(s, ",<>")
	if end < 0 {
		end = len(s)
	}
	if end == 0 {
		return "", "", fmt.Errorf("missing type in %q", s)
	}
	return s[:end], s[end:], nil
}

// ddlColumns splits the column list that follows head, "(", ... ")".
func ddlColumns(t *testing.T, ddl, head string) map[string]string {
	t.Helper()
	start := strings.Index(ddl, head)
	if start < 0 {
		t.Fatalf("DDL has no %q", head)
	}
	open := start + strings.Index(ddl[start:], "(")
	depth, end := 0, -1
	for i := open; i < len(ddl) && end < 0; i++ {
		switch ddl[i] {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				end = i
			}
		}
	}
	if end < 0 {
		t.Fatalf("unclosed column list after %q", head)
	}
	cols := map[string]string{}
	var part strings.Builder
	angle := 0
	flush := func() {
		text := strings.TrimSpace(part.String())
		part.Reset()
		if text == "" {
			return
		}
		name, typ, ok := strings.Cut(text, " ")
		if !ok {
			t.Fatalf("column %q has no type", text)
		}
		canon, err := canonicalHiveType(typ)
		if err != nil {
			t.Fatalf("column %s: %v", name, err)
		}
		cols[strings.Trim(name, "`")] = canon
	}
	for _, r := range ddl[open+1 : end] {
		switch {
		case r == '<':
			angle++
		case r == '>':
			angle--
		case r == ',' && angle == 0:
			flush()
			continue
		}
		part.WriteRune(r)
	}
	flush()
	return cols
}

func TestAthenaTableMatchesTheRowSchema(t *testing.T) {
	data, err := os.ReadFile("athena/orgscan_accounts.sql")
	if err != nil {
		t.Fatal(err)
	}
	ddl := string(data)
	got := ddlColumns(t, ddl, "CREATE EXTERNAL TABLE")
	want := map[string]string{}
	for name, ft := range jsonFields(reflect.TypeOf(scan.Row{})) {
		want[name] = hiveType(ft)
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("column %s is %q, want %q for scan.Row's JSON", name, got[name], typ)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("column %s is not in scan.Row's JSON", name)
		}
	}

	partitions := ddlColumns(t, ddl, "PARTITIONED BY")
	if !reflect.DeepEqual(partitions, map[string]string{"org_id": "string", "scan_date": "string"}) {
		t.Errorf("partitions %v, want org_id and scan_date", partitions)
	}
	// The layout orgscan writes under an S3 prefix: <prefix>org=<id>/date=<YYYY-MM-DD>/.
	for _, want := range []string{
		"'org.openx.data.jsonserde.JsonSerDe'",
		"LOCATION 's3://REPORTS_BUCKET/orgscan/'",
		"'storage.location.template' = 's3://REPORTS_BUCKET/orgscan/org=${org_id}/date=${scan_date}/'",
		"'projection.scan_date.format' = 'yyyy-MM-dd'",
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("DDL lacks %s", want)
		}
	}
	for _, q := range []string{"athena/accounts_with_root_keys_today.sql", "athena/new_root_keys_since_previous_scan.sql"} {
		text, err := os.ReadFile(q)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(text), "FROM orgscan_accounts") {
			t.Errorf("%s does not query orgscan_accounts", q)
		}
	}
}

func TestHiveTypeParserNormalisesWhatTheTestCompares(t *testing.T) {
	cases := []struct {
		name, in, want string
		fails          bool
	}{
		{"a primitive is kept", "STRING", "string", false},
		{"struct fields are sorted and spaces dropped", "struct< b: int, a: array<string> >", "struct<a:array<string>,b:int>", false},
		{"a map keeps key and value", "map<string, int>", "map<string,int>", false},
		{"an unclosed struct fails", "struct<a:int", "", true},
		{"a struct field without a type fails", "struct<a>", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := canonicalHiveType(c.in)
			if (err != nil) != c.fails || got != c.want {
				t.Fatalf("canonicalHiveType(%q) = %q, %v; want %q, fails %v", c.in, got, err, c.want, c.fails)
			}
		})
	}
}
