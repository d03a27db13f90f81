package output

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sanitize makes a string from AWS safe to print on a terminal or a page.
// Account names and emails are chosen by account owners, so a name can
// carry escape sequences that recolour or rewrite the screen, or bidi
// controls that make it read as something else. Sanitize:
//   - removes ANSI escape sequences whole (CSI, OSC and friends, in their
//     7-bit and C1 forms), not just their ESC byte, so "\x1b[31m" leaves
//     no "[31m" behind; an unterminated string sequence loses only its
//     introducer, so its text stays visible;
//   - turns tab, newline, carriage return and the Unicode line and
//     paragraph separators into a space, so words stay apart;
//   - removes every other C0 and C1 control and DEL;
//   - removes format characters (Unicode category Cf): bidi embeddings,
//     overrides and isolates (U+202A–U+202E, U+2066–U+2069), zero-width
//     spaces and joiners, the byte order mark, soft hyphen;
//   - replaces each invalid UTF-8 byte with U+FFFD.
//
// Printable text passes unchanged, and Sanitize(Sanitize(s)) == Sanitize(s).
func Sanitize(s string) string { return sanitize(s, false) }

// SanitizeText is Sanitize for text of several lines, such as what goes to
// stderr: line feeds stay, so log records and messages keep their lines;
// everything else is as Sanitize, carriage returns included (a bare CR
// would let the rest of a message overwrite what the line already shows).
func SanitizeText(s string) string { return sanitize(s, true) }

func sanitize(s string, keepLF bool) string {
	if isClean(s, keepLF) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		case r == 0x1b:
			i += escapeLen(s[i+size:]) + size
			continue
		case r == 0x9b: // C1 CSI
			i += csiLen(s[i+size:]) + size
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i += stringSeqLen(s[i+size:]) + size
			continue
		case r == '\n' && keepLF:
			b.WriteByte('\n')
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case !removed(r):
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isClean is the fast path: most names are printable ASCII.
func isClean(s string, keepLF bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 || c >= 0x7f) && !(c == '\n' && keepLF) {
			return false
		}
	}
	return true
}

// removed tells whether a rune is invisible or a control that Sanitize
// drops outright.
func removed(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r)
}

// escapeLen is the length of the escape sequence after an ESC, which it
// excludes. Following ECMA-48: ESC [ starts a control sequence; ESC ], P,
// X, ^ and _ start a control string ended by BEL or ST; otherwise any
// intermediate bytes and one final byte follow.
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		return 1 + csiLen(s[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringSeqLen(s[1:])
	}
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x2f {
		n++
	}
	if n < len(s) && s[n] >= 0x30 && s[n] <= 0x7e {
		return n + 1
	}
	// Not a sequence a terminal would act on: drop only the ESC.
	return 0
}

// csiLen is the length of a control sequence's parameters, intermediates
// and final byte. It stops at the first byte that cannot belong to one, as
// a terminal does.
func csiLen(s string) int {
	n := 0
	for n < len(s) && s[n] >= 0x20 && s[n] <= 0x3f {
		n++
	}
	if n < len(s) && s[n] >= 0x40 && s[n] <= 0x7e {
		return n + 1
	}
	return n
}

// stringSeqLen is the length of a control string's body and terminator
// (BEL, ESC \ or C1 ST). Without a terminator nothing is consumed, so the
// text stays visible once its introducer is dropped.
func stringSeqLen(s string) int {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x07 || r == 0x9c:
			return i + size
		case r == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		}
		i += size
	}
	return 0
}
