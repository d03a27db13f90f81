package output

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"printable ASCII passes unchanged", "Prod account (eu) #1", "Prod account (eu) #1"},
		{"non-Latin text passes unchanged", "本番 Café ☕", "本番 Café ☕"},
		{"an SGR colour sequence is removed whole", "a\x1b[31mred\x1b[0mb", "aredb"},
		{"a CSI with intermediates is removed whole", "a\x1b[2 qb", "ab"},
		{"an OSC title change ended by BEL is removed whole", "a\x1b]0;pwned\x07b", "ab"},
		{"an OSC hyperlink ended by ST is removed whole", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"an unterminated OSC keeps its text visible", "a\x1b]0;title", "a0;title"},
		{"a two-byte escape is removed", "a\x1bcb", "ab"},
		{"a lone ESC at the end is removed", "ab\x1b", "ab"},
		{"a C1 CSI is removed with its sequence", "a\u009b31mb", "ab"},
		{"tab, CR, LF and line separators become spaces", "a\tb\rc\nd\u2028e", "a b c d e"},
		{"other C0 controls, DEL and C1 controls are removed", "a\x00\x07\x08\x7f\u0085b", "ab"},
		{"bidi overrides and isolates are removed", "a\u202Eevil\u202Cb\u2066c\u2069", "aevilbc"},
		{"zero-width characters and BOM are removed", "a\u200Bb\u200Dc\uFEFFd\u2060e", "abcde"},
		{"invalid UTF-8 becomes replacement characters", "a\xffb", "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sanitize(tc.in); got != tc.want {
				t.Errorf("Sanitize(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSanitizeText(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want string
	}{
		{"line feeds stay", "first\nsecond\n", "first\nsecond\n"},
		{"a carriage return cannot rewind the line", "ok\rScan complete", "ok Scan complete"},
		{"screen clearing, a title and hidden text are removed whole", "a\x1b[2J\x1b]0;pwned\x07\x1b[8mb\n", "ab\n"},
		{"a fake green line keeps its words, not its colour", "\x1b[32mScan complete: 0 findings\x1b[0m\n", "Scan complete: 0 findings\n"},
		{"C1 controls and bidi overrides are removed", "a\u009b2Jb\u202ec\n", "abc\n"},
		{"tabs become spaces, as in the table", "a\tb", "a b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SanitizeText(tc.in); got != tc.want {
				t.Errorf("SanitizeText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// checkPrintable fails when s holds anything Sanitize promises to remove.
// allowNewline admits \n, which separates table lines.
func checkPrintable(t *testing.T, s string, allowNewline bool) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	for i, r := range s {
		if r == '\n' && allowNewline {
			continue
		}
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			t.Fatalf("control or format character %U at byte %d in %q", r, i, s)
		}
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", "plain", hostileName, "\x1b[", "\x1b]", "\u009b", "\x1b\x1b[31m", "a\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Sanitize(s)
		checkPrintable(t, got, false)
		if again := Sanitize(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
		if isClean(s, false) && got != s {
			t.Fatalf("printable ASCII changed: %q -> %q", s, got)
		}
		if len(got) > 3*len(s) {
			t.Fatalf("output grew from %d to %d bytes", len(s), len(got))
		}
		if strings.ContainsRune(got, 0x1b) {
			t.Fatalf("ESC survived in %q", got)
		}
		text := SanitizeText(s)
		checkPrintable(t, text, true)
		if again := SanitizeText(text); again != text {
			t.Fatalf("SanitizeText is not idempotent: %q -> %q -> %q", s, text, again)
		}
		if strings.ReplaceAll(text, "\n", " ") != got {
			t.Fatalf("SanitizeText(%q) = %q differs from Sanitize's %q in more than line feeds", s, text, got)
		}
	})
}
