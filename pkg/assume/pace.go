package assume

import (
	"context"
	"sync"
	"time"
)

// Pacing. A service that throttles per calling account (STS: 600 requests
// per second; Organizations: a few) is best fed at exactly its rate. Backing
// off each throttled caller exponentially leaves the quota idle whenever
// every caller happens to be asleep (a handful of discovery calls against
// 2/s lose a tenth of the run that way), and hundreds of callers retrying on
// their own cost a CPU millisecond per throttled attempt. So the first
// throttle switches a client to paced attempts: one shared schedule, its
// rate cut by a tenth on a throttle (once per round trip, since requests
// already in flight were sent at the old rate) and raised by a fortieth of a
// request per success (2.5% a second at any rate), hovering just above the
// quota. A throttled attempt then retries at its next slot, not after a
// growing backoff.
const (
	paceCut     = 0.9   // the rate kept after a throttle
	paceRaise   = 0.025 // requests per second added per success
	paceMinRate = 0.5   // requests per second; never slower
	// paceHold is the least time between two cuts; attempts that were in
	// flight when the rate was cut come back throttled during it.
	paceHold = 250 * time.Millisecond
	// paceWindow is the span the send rate is measured over, which is where
	// the first cut starts from.
	paceWindow = time.Second
	// paceQuantum is the granularity of the schedule.
	paceQuantum = 25 * time.Millisecond
)

// pacer spaces one client's attempts once the service has throttled it.
// The zero rate means unpaced.
type pacer struct {
	now func() time.Time

	mu       sync.Mutex
	rate     float64   // attempts per second; 0 until the first throttle
	next     time.Time // earliest start of the next attempt
	holdTill time.Time // no cut before this
	// Send rate over the current and the previous window.
	winStart, prevStart time.Time
	count, prevCount    int
}

func newPacer(now func() time.Time) *pacer { return &pacer{now: now} }

// wait blocks until the attempt's slot, or ctx ends.
func (p *pacer) wait(ctx context.Context) error {
	d := p.reserve()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// reserve books the next slot and returns how long until it starts.
func (p *pacer) reserve() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.countSend(now)
	if p.rate == 0 {
		return 0
	}
	start := p.next
	if start.Before(now) {
		start = now
	}
	p.next = start.Add(time.Duration(float64(time.Second) / p.rate))
	// Attempts due within one quantum start together: a process that
	// wakes once for a handful of requests spends far less CPU than one
	// that wakes for each, and the service's bucket holds a second's worth.
	d := start.Sub(now)
	if r := d % paceQuantum; r != 0 {
		d += paceQuantum - r
	}
	return d
}

// done adjusts the rate to how an attempt ended.
func (p *pacer) done(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	switch {
	case throttled && now.Before(p.holdTill):
		// Sent before the last cut took effect.
	case throttled:
		base := p.sendRate(now)
		if p.rate > 0 && (base == 0 || p.rate < base) {
			base = p.rate
		}
		p.rate = max(base*paceCut, paceMinRate)
		p.holdTill = now.Add(max(paceHold, time.Duration(2*float64(time.Second)/p.rate)))
	case p.rate > 0:
		p.rate += paceRaise
	}
}

// paced reports whether the client has been throttled and is paced.
func (p *pacer) paced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate > 0
}

func (p *pacer) countSend(now time.Time) {
	if p.winStart.IsZero() {
		p.winStart, p.prevStart = now, now
	}
	if now.Sub(p.winStart) >= paceWindow {
		p.prevStart, p.prevCount = p.winStart, p.count
		p.winStart, p.count = now, 0
	}
	p.count++
}

// sendRate is the attempts per second over the current and previous window.
func (p *pacer) sendRate(now time.Time) float64 {
	span := now.Sub(p.prevStart)
	if span < 50*time.Millisecond {
		span = 50 * time.Millisecond
	}
	return float64(p.prevCount+p.count) / span.Seconds()
}
