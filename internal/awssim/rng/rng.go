// Package rng is the simulator's one seeded source of randomness. Request
// ids, latency jitter, injected faults, issued credentials and S3 version
// ids all draw from it, in the order requests reach them, so that
// Options.Seed reproduces a run.
package rng

import (
	"math/rand"
	"sync"
)

// Rand is a seeded source safe for concurrent use.
type Rand struct {
	mu   sync.Mutex
	rand *rand.Rand
}

// New is a source seeded with seed.
func New(seed int64) *Rand { return &Rand{rand: rand.New(rand.NewSource(seed))} }

// Bytes returns n random bytes.
func (r *Rand) Bytes(n int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, n)
	_, _ = r.rand.Read(b)
	return b
}

// Float64 is uniform in [0, 1).
func (r *Rand) Float64() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rand.Float64()
}

// String returns n characters from alphabet.
func (r *Rand) String(n int, alphabet string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.rand.Intn(len(alphabet))]
	}
	return string(b)
}
