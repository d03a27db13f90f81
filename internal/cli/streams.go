package cli

import (
	"bytes"
	"io"
	"os"
)

// Streams owns the terminal: stdout carries only the report, so that
// `orgscan -f json | jq` always works; progress, logs and colour go to stderr
// and only when it is a terminal.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
	noColor        bool
	// Getenv reads the environment; tests replace it.
	Getenv func(string) string
}

// System returns the process's streams.
func System() *Streams {
	return &Streams{
		In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
		outTTY:  isTerminal(os.Stdout),
		errTTY:  isTerminal(os.Stderr),
		noColor: os.Getenv("NO_COLOR") != "",
		Getenv:  os.Getenv,
	}
}

// Test returns streams backed by buffers, neither of them a terminal.
func Test() (*Streams, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	return &Streams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut, Getenv: func(string) string { return "" }}, &out, &errOut
}

// SetTerminal makes the streams behave as terminals (for tests).
func (s *Streams) SetTerminal(out, err bool) { s.outTTY, s.errTTY = out, err }

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
