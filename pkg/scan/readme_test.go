package scan_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's findings table from the definitions")

const (
	readmePath       = "../../README.md"
	readmeTableBegin = "<!-- findings table: generated from pkg/scan/definitions.go by `go test ./pkg/scan -run TestREADME -update-readme` -->\n"
	readmeTableEnd   = "<!-- end of findings table -->\n"
)

// findingsTable renders the definitions as the README shows them.
func findingsTable() string {
	var b strings.Builder
	b.WriteString("| finding | severity | controls | meaning | remediation |\n|---|---|---|---|---|\n")
	defs := scan.Definitions()
	for _, id := range scan.FindingIDs() {
		d := defs[id]
		var controls []string
		for _, c := range d.Controls {
			std := strings.Replace(strings.TrimPrefix(c.Standard, "AWS "), "CIS AWS Foundations Benchmark", "CIS", 1)
			controls = append(controls, std+" "+c.ID)
		}
		ctl := strings.Join(controls, ", ")
		if ctl == "" {
			ctl = "none"
		}
		meaning := d.Summary
		if d.RequiresDetails {
			meaning = "(`--details`) " + meaning
		}
		if d.RequiresContacts {
			meaning = "(`--contacts`) " + meaning
		}
		b.WriteString("| `" + id + "` | " + string(d.Severity) + " | " + ctl + " | " + meaning + " | " + d.Remediation + " |\n")
	}
	return b.String()
}

func TestREADMEFindingsTableMatchesTheDefinitions(t *testing.T) {
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	begin := strings.Index(readme, readmeTableBegin)
	end := strings.Index(readme, readmeTableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("README.md has no findings table between %q and %q", readmeTableBegin, readmeTableEnd)
	}
	begin += len(readmeTableBegin)
	want := findingsTable()
	if *updateReadme {
		if err := os.WriteFile(readmePath, []byte(readme[:begin]+want+readme[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := readme[begin:end]; got != want {
		t.Errorf("README.md's findings table differs from the definitions; run go test ./pkg/scan -run TestREADME -update-readme\ngot:\n%s\nwant:\n%s", got, want)
	}
}
