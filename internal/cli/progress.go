package cli

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orgscan/orgscan/pkg/scan"
)

// progress draws one status line on stderr while a scan runs, only when
// stderr is a terminal: a log file or a pipe must not fill with redraws.
type progress struct {
	found, completed, errors atomic.Int64
	start                    time.Time
	now                      func() time.Time
	stopOnce                 sync.Once
	quit                     chan struct{}
	finished                 chan struct{}
	streams                  *Streams
	// verb says what is done to the accounts: "scanning", "planning"...
	verb string
}

const progressInterval = 250 * time.Millisecond

func newProgress(st *Streams, quiet bool, now func() time.Time) *progress {
	return newProgressOf(st, quiet, now, "scanning")
}

// newProgressOf is a progress line for another work than scanning; with no
// account discovered (found stays 0), it counts accounts done only.
func newProgressOf(st *Streams, quiet bool, now func() time.Time, verb string) *progress {
	p := &progress{start: now(), now: now, quit: make(chan struct{}), finished: make(chan struct{}), streams: st, verb: verb}
	if quiet || !st.IsStderrTerminal() {
		close(p.finished)
		return p
	}
	go p.loop()
	return p
}

func (p *progress) discovered() { p.found.Add(1) }

func (p *progress) done(r *scan.Row) {
	p.completed.Add(1)
	if r.Status == scan.StatusError {
		p.errors.Add(1)
	}
}

func (p *progress) loop() {
	defer close(p.finished)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			fmt.Fprint(p.streams.progressOut(), "\r\033[K")
			return
		case <-t.C:
			p.draw()
		}
	}
}

func (p *progress) draw() {
	done, found := p.completed.Load(), p.found.Load()
	rate := float64(done) / max(p.now().Sub(p.start).Seconds(), 0.001)
	if found == 0 {
		fmt.Fprintf(p.streams.progressOut(), "\r\033[K%s: %d accounts, %d errors, %.0f accounts/s", p.verb, done, p.errors.Load(), rate)
		return
	}
	fmt.Fprintf(p.streams.progressOut(), "\r\033[K%s: %d/%d accounts, %d errors, %.0f accounts/s", p.verb, done, found, p.errors.Load(), rate)
}

// stop erases the line; it is safe to call more than once.
func (p *progress) stop() {
	p.stopOnce.Do(func() { close(p.quit) })
	<-p.finished
}
