package cli

import (
	"context"
	"errors"
	"io"

	"github.com/orgscan/orgscan/internal/sink"
)

// streamFile writes one file as items arrive (a scan's rows, a
// remediation's accounts), from a goroutine that holds the file's atomic
// replacement open until the report R is final: a reader of the temporary
// file sees every item written so far, and the file is put in place whole
// or not at all.
type streamFile[I, R any] struct {
	items  chan I
	wrote  chan error
	report chan *R
	ended  chan struct{}
	err    error // set before ended closes
}

// streamWriter is what a streamFile writes through: each item, then the
// report that ends the file.
type streamWriter[I, R any] struct {
	write func(I) error
	close func(*R) error
}

// errNoReport ends a file stream without replacing the file.
var errNoReport = errors.New("the run ended without a report")

// startStreamFile opens the file at path; open makes its writer, and a
// failure to make one is the file's error.
func startStreamFile[I, R any](ctx context.Context, path string, open func(io.Writer) (streamWriter[I, R], error)) *streamFile[I, R] {
	f := &streamFile[I, R]{items: make(chan I), wrote: make(chan error), report: make(chan *R, 1), ended: make(chan struct{})}
	go func() {
		_, err := sink.FileSink{Path: path}.Deliver(ctx, sink.Object{}, func(w io.Writer) error {
			wr, err := open(w)
			for item := range f.items {
				if err == nil {
					err = wr.write(item)
				}
				f.wrote <- err
			}
			rep := <-f.report
			switch {
			case err != nil:
				return err
			case rep == nil:
				return errNoReport
			}
			return wr.close(rep)
		})
		f.err = err
		close(f.ended)
	}()
	return f
}

// send writes one item; the error is the file's first.
func (f *streamFile[I, R]) send(item I) error {
	select {
	case f.items <- item:
		return <-f.wrote
	case <-f.ended:
		// The file could not be opened.
		return f.err
	}
}

// finish writes the end of the report (nil: none, and the file is left as
// it was) and puts the file in place.
func (f *streamFile[I, R]) finish(rep *R) error {
	close(f.items)
	f.report <- rep
	<-f.ended
	return f.err
}
