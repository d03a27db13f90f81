// Package stats counts what happened to each operation: requests,
// throttled answers, other failures, and calls that ask to change state.
package stats

import (
	"slices"
	"strings"
	"sync"
)

// OpStats counts what happened to one operation.
type OpStats struct {
	Requests  int64 `json:"requests"`
	Throttled int64 `json:"throttled"`
	Failed    int64 `json:"failed"` // errors other than throttling
	// Mutations counts authenticated requests for an action that changes
	// state, whatever their answer: a dry run must make none, so a refused
	// or failed attempt counts as much as a done one.
	Mutations int64 `json:"mutations"`
}

// Stats is a snapshot of the per-operation counters, keyed "service:Operation".
type Stats struct {
	Operations map[string]OpStats `json:"operations"`
}

// Total sums the counters of every operation of a service ("" for all).
func (st Stats) Total(service string) OpStats {
	var t OpStats
	for k, v := range st.Operations {
		if service != "" && !strings.HasPrefix(k, service+":") {
			continue
		}
		t.Requests += v.Requests
		t.Throttled += v.Throttled
		t.Failed += v.Failed
		t.Mutations += v.Mutations
	}
	return t
}

// Counters count requests by operation.
type Counters struct {
	mu  sync.Mutex
	ops map[string]*OpStats
}

// NewCounters starts every counter at zero.
func NewCounters() *Counters { return &Counters{ops: map[string]*OpStats{}} }

func (st *Counters) get(service, op string) *OpStats {
	k := service + ":" + op
	o, ok := st.ops[k]
	if !ok {
		o = &OpStats{}
		st.ops[k] = o
	}
	return o
}

// Request counts a request.
func (st *Counters) Request(service, op string) {
	st.mu.Lock()
	st.get(service, op).Requests++
	st.mu.Unlock()
}

// Mutation counts an authenticated request for an action that changes state.
func (st *Counters) Mutation(service, op string) {
	st.mu.Lock()
	st.get(service, op).Mutations++
	st.mu.Unlock()
}

var throttleCodes = []string{"Throttling", "TooManyRequestsException", "SlowDown", "ThrottlingException"}

// Failed counts a request's failure: throttled, or failed otherwise.
func (st *Counters) Failed(service, op, code string) {
	st.mu.Lock()
	o := st.get(service, op)
	if slices.Contains(throttleCodes, code) {
		o.Throttled++
	} else {
		o.Failed++
	}
	st.mu.Unlock()
}

// Snapshot returns a copy of the counters.
func (st *Counters) Snapshot() Stats {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := Stats{Operations: make(map[string]OpStats, len(st.ops))}
	for k, v := range st.ops {
		out.Operations[k] = *v
	}
	return out
}

// Reset zeroes the counters.
func (st *Counters) Reset() {
	st.mu.Lock()
	st.ops = map[string]*OpStats{}
	st.mu.Unlock()
}
