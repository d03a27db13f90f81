package assume

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestPacer() (*pacer, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return newPacer(c.now), c
}

// send books n attempts spread evenly over d and returns the last delay.
func send(p *pacer, c *fakeClock, n int, d time.Duration) time.Duration {
	var last time.Duration
	for range n {
		last = p.reserve()
		c.advance(d / time.Duration(n))
	}
	return last
}

func TestPacerIsOffUntilTheFirstThrottle(t *testing.T) {
	p, c := newTestPacer()
	if d := send(p, c, 1000, time.Second); d != 0 {
		t.Fatalf("an unthrottled client waited %s", d)
	}
	p.done(false)
	if p.paced() {
		t.Fatal("a success switched pacing on")
	}
}

func TestPacerStartsJustBelowTheRateThatWasThrottled(t *testing.T) {
	p, c := newTestPacer()
	send(p, c, 400, time.Second) // 400 attempts a second
	p.done(true)
	if got, want := p.rate, 400*paceCut; got < want*0.95 || got > want*1.05 {
		t.Fatalf("rate after the first throttle %.1f/s, want about %.1f/s", got, want)
	}
}

func TestPacerSpacesAttemptsOnAQuantizedSchedule(t *testing.T) {
	p, c := newTestPacer()
	send(p, c, 4, time.Second)
	p.done(true)
	p.rate = 3.6
	gap := time.Duration(float64(time.Second) / p.rate)
	up := func(d time.Duration) time.Duration { return (d + paceQuantum - 1) / paceQuantum * paceQuantum }
	d0, d1, d2 := p.reserve(), p.reserve(), p.reserve()
	if d0 != 0 || d1 != up(gap) || d2 != up(2*gap) {
		t.Errorf("delays %s, %s, %s; want 0, %s, %s", d0, d1, d2, up(gap), up(2*gap))
	}
}

func TestPacerCutsOncePerRoundTripAndRecoversOnSuccess(t *testing.T) {
	p, c := newTestPacer()
	send(p, c, 100, time.Second)
	p.done(true)
	first := p.rate
	for range 50 {
		p.done(true) // in flight when the rate was cut
	}
	if p.rate != first {
		t.Fatalf("throttles within the hold cut the rate from %.2f to %.2f", first, p.rate)
	}
	send(p, c, 90, time.Second) // at the paced rate
	p.done(true)
	if want := first * paceCut; p.rate < want-1e-9 || p.rate > want+1e-9 {
		t.Fatalf("a throttle after the hold left the rate at %.2f, want %.2f", p.rate, want)
	}
	cut := p.rate
	for range 40 {
		p.done(false)
	}
	if want := cut + 40*paceRaise; p.rate < want-1e-9 || p.rate > want+1e-9 {
		t.Errorf("40 successes raised the rate to %.3f, want %.3f", p.rate, want)
	}
}

func TestPacerNeverStops(t *testing.T) {
	p, c := newTestPacer()
	for range 200 {
		p.reserve()
		p.done(true)
		c.advance(10 * time.Second)
	}
	if p.rate < paceMinRate {
		t.Fatalf("rate fell to %.3f/s, below the floor %.1f/s", p.rate, paceMinRate)
	}
}

func TestPacerWaitEndsWithTheContext(t *testing.T) {
	p, c := newTestPacer()
	send(p, c, 2, time.Second)
	p.done(true)
	p.rate = paceMinRate
	p.reserve() // the next slot is now two seconds away
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait returned %v, want the context's deadline", err)
	}
	if el := time.Since(start); el > time.Second {
		t.Errorf("wait took %s after its context ended", el)
	}
}
