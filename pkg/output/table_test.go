package output

import (
	"regexp"
	"strings"
	"testing"
)

var ourSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func TestTableRemovesControlCharacters(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"piped", Options{}},
		{"on a terminal without colour", Options{Terminal: true}},
		{"on a terminal with colour, apart from its own SGR codes", Options{Terminal: true, Color: true}},
	} {
		for _, details := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: " with details"}[details], func(t *testing.T) {
				o := tc.o
				o.Details, o.Now = details, fixedAt
				out := string(render(t, FormatTable, goldenReport(details), o))
				plain := ourSGR.ReplaceAllString(out, "")
				if !o.Color && plain != out {
					t.Error("escape codes without colour")
				}
				checkPrintable(t, plain, true)
				for _, s := range []string{"[31m", "]0;pwned"} {
					if strings.Contains(plain, s) {
						t.Errorf("the remains of an escape sequence, %q, reached the table", s)
					}
				}
				if !strings.Contains(plain, "=cmd|' /C calc'!A0 x yredevil<script>") {
					t.Error("the hostile name's visible text is missing")
				}
			})
		}
	}
}

func TestTableAlignsWideAndCombiningCharacters(t *testing.T) {
	out := string(render(t, FormatTable, goldenReport(false), Options{}))
	lines := strings.Split(out, "\n")
	col := displayWidth(lines[0][:strings.Index(lines[0], "OU ")])
	checked := 0
	for _, line := range lines[1:] {
		if line == "" {
			break
		}
		i := strings.Index(line, "  Root")
		if i < 0 {
			t.Fatalf("no OU column in %q", line)
		}
		if got := displayWidth(line[:i+2]); got != col {
			t.Errorf("OU starts at column %d, header at %d: %q", got, col, line)
		}
		checked++
	}
	if checked != 7 {
		t.Fatalf("checked %d rows, want 7", checked)
	}
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"Prod", 4}, {"本番", 4}, {"Cafe\u0301", 4}, {"☕", 2}, {"ｆｕｌｌ", 8}, {"한국", 4},
	} {
		if got := displayWidth(tc.s); got != tc.want {
			t.Errorf("displayWidth(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
}

func TestTableTimes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		terminal bool
		want     []string
		not      []string
	}{
		{"piped, last use is a date that does not depend on the clock", false, []string{"2026-02-26 s3/eu-west-1", "399d"}, []string{"ago"}},
		{"on a terminal, last use is relative to now", true, []string{"3d ago s3/eu-west-1", "7h ago", "399d"}, []string{"2026-02-26 s3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(render(t, FormatTable, goldenReport(true), Options{Details: true, Terminal: tc.terminal, Now: fixedAt}))
			for _, s := range tc.want {
				if !strings.Contains(out, s) {
					t.Errorf("missing %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(out, s) {
					t.Errorf("unexpected %q", s)
				}
			}
		})
	}
}

func TestTableFooterTellsCoverage(t *testing.T) {
	rep := goldenReport(false)
	out := string(render(t, FormatTable, rep, Options{}))
	for _, s := range []string{
		"7 accounts: 4 scanned, 1 skipped, 1 error, 1 not scanned; 1 with findings",
		"organization o-abc123def4, management account 111111111111, caller arn:aws:sts::111111111111:assumed-role/Audit/alice",
		"INCOMPLETE: the scan was interrupted",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("footer lacks %q", s)
		}
	}
	rep.Scan.Complete, rep.Scan.Interrupted = true, false
	if out := string(render(t, FormatTable, rep, Options{})); strings.Contains(out, "INCOMPLETE") {
		t.Error("a complete scan is marked incomplete")
	}
}
