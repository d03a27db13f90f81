//go:build race

package diff

// raceEnabled: the race detector instruments every allocation and memory
// access, so allocation figures measure it rather than Read.
const raceEnabled = true
