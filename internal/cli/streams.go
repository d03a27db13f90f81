package cli

import (
	"bytes"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"github.com/aws/smithy-go/logging"

	"github.com/orgscan/orgscan/pkg/output"
)

// Streams owns the terminal: stdout carries only the report, so that
// `orgscan -f json | jq` always works; progress, logs and colour go to stderr
// and only when it is a terminal.
//
// Everything written to ErrOut passes the report's own sanitizer (see
// safeWriter): messages, logs and traces quote AWS answers and report
// files, which another party writes, and this is the one place that cleans
// them, so that no error path can forget to.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// rawErr is stderr itself, for the progress line's own redraws.
	rawErr io.Writer

	inTTY, outTTY, errTTY bool
	noColor               bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// System returns the process's streams.
func System() *Streams {
	return &Streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: newSafeWriter(os.Stderr), rawErr: os.Stderr,
		inTTY:   isTerminal(os.Stdin),
		outTTY:  isTerminal(os.Stdout),
		errTTY:  isTerminal(os.Stderr),
		noColor: os.Getenv("NO_COLOR") != "",
		Getenv:  os.Getenv,
	}
}

// Test returns streams backed by buffers, neither of them a terminal.
func Test() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Streams{
		In: bytes.NewReader(nil), Out: &out, ErrOut: newSafeWriter(&errOut), rawErr: &errOut,
		Getenv: func(string) string { return "" },
	}, &out, &errOut
}

// progressOut is where the progress line draws: stderr unfiltered, since
// the line erases itself with an escape sequence. Only text orgscan makes
// itself (counts and rates) may go there.
func (s *Streams) progressOut() io.Writer {
	if s.rawErr != nil {
		return s.rawErr
	}
	return s.ErrOut
}

// SetTerminal makes the streams behave as terminals (for tests).
func (s *Streams) SetTerminal(out, err bool) { s.outTTY, s.errTTY = out, err }

// SetStdinTerminal makes stdin behave as a terminal (for tests).
func (s *Streams) SetStdinTerminal(in bool) { s.inTTY = in }

// IsStdinTerminal tells whether stdin is a terminal: whether someone can
// type an answer to a question.
func (s *Streams) IsStdinTerminal() bool { return s.inTTY }

// IsStdoutTerminal tells whether stdout is a terminal.
func (s *Streams) IsStdoutTerminal() bool { return s.outTTY }

// IsStderrTerminal tells whether stderr is a terminal.
func (s *Streams) IsStderrTerminal() bool { return s.errTTY }

// ColorEnabled honours NO_COLOR (https://no-color.org).
func (s *Streams) ColorEnabled() bool { return s.outTTY && !s.noColor }

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// sdkLogger sends the AWS SDK's own log lines through ErrOut: the SDK's
// default logger writes to the process's stderr directly, past the
// sanitizer. Its debug lines (a response without a checksum to validate,
// for one) are for --debug only.
func (s *Streams) sdkLogger(debug bool) logging.Logger {
	std := logging.NewStandardLogger(s.ErrOut)
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		if c == logging.Debug && !debug {
			return
		}
		std.Logf(c, format, v...)
	})
}

// safeWriter cleans text on its way to a terminal or log: escape sequences
// (colours, screen clearing, window titles, hidden text), other controls,
// carriage returns and bidi or invisible format characters are removed, as
// output.SanitizeText does; line feeds stay. An error message from a hostile
// endpoint therefore cannot clear the screen, fake a "Scan complete" line
// or hide what follows it. JSON log lines stay valid JSON: their encoder
// already escapes the C0 controls, and removing a character inside a string
// leaves a string.
//
// A write that ends inside a UTF-8 character keeps that character's first
// bytes for the next write, so that a split character is not mangled; a
// split escape sequence loses its ESC, which leaves harmless text.
type safeWriter struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte
}

// newSafeWriter returns a safeWriter writing to w.
func newSafeWriter(w io.Writer) *safeWriter { return &safeWriter{w: w} }

// Write cleans p and writes the result; it reports all of p as written
// when the underlying write succeeds.
func (s *safeWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := append(s.partial, p...)
	s.partial = nil
	if cut := incompleteTail(buf); cut < len(buf) {
		s.partial = append([]byte(nil), buf[cut:]...)
		buf = buf[:cut]
	}
	if _, err := io.WriteString(s.w, output.SanitizeText(string(buf))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail is where a UTF-8 character that b ends in the middle of
// begins, or len(b).
func incompleteTail(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return i
			}
			break
		}
	}
	return len(b)
}
