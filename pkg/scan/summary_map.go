package scan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"iter"
	"slices"
	"strconv"
	"strings"
	"unique"
)

// Summary is IAM's SummaryMap for one account, in key order. A report
// keeps one per account until it is written, so it is small: every account
// reports the same few dozen keys, and a Summary holds its key list as one
// interned value that all summaries with the same keys share, and only its
// own counters (about 4 bytes each, where a map costs about 4 KB and a
// slice of pairs 800 bytes). It marshals as the JSON object the map would
// (keys in the same order); the zero Summary, an account not read, as
// null.
type Summary struct {
	// keys is every key, each as its length (uvarint) and bytes, in order.
	keys   unique.Handle[string]
	values []int32 // nil: no summary
}

// NewSummary sorts m into a Summary; nil is the zero Summary.
func NewSummary(m map[string]int32) Summary {
	if m == nil {
		return Summary{}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b []byte
	values := make([]int32, len(keys))
	for i, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		values[i] = m[k]
	}
	return Summary{keys: unique.Make(string(b)), values: values}
}

// IsZero tells whether the account's summary was not read.
func (s Summary) IsZero() bool { return s.values == nil }

// Len is the number of counters.
func (s Summary) Len() int { return len(s.values) }

// All yields each key and its counter in key order.
func (s Summary) All() iter.Seq2[string, int32] {
	return func(yield func(string, int32) bool) {
		if s.values == nil {
			return
		}
		rest := s.keys.Value()
		for _, v := range s.values {
			n, w := uvarint(rest)
			key := rest[w : w+n]
			rest = rest[w+n:]
			if !yield(key, v) {
				return
			}
		}
	}
}

// uvarint reads what binary.AppendUvarint wrote at the start of s.
func uvarint(s string) (n, width int) {
	var x uint64
	for i, shift := 0, uint(0); i < len(s); i, shift = i+1, shift+7 {
		c := s[i]
		if c < 0x80 {
			return int(x | uint64(c)<<shift), i + 1
		}
		x |= uint64(c&0x7f) << shift
	}
	return 0, len(s) // unreachable: the keys are written by NewSummary
}

// Get returns the counter of that key, and whether IAM reported it.
func (s Summary) Get(key string) (int32, bool) {
	for k, v := range s.All() {
		switch strings.Compare(k, key) {
		case 0:
			return v, true
		case 1:
			return 0, false
		}
	}
	return 0, false
}

// MarshalJSON writes {"Key":value,...} in key order.
func (s Summary) MarshalJSON() ([]byte, error) {
	if s.values == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 40*len(s.values)+2)
	b = append(b, '{')
	i := 0
	for k, v := range s.All() {
		if i > 0 {
			b = append(b, ',')
		}
		i++
		if plainKey(k) {
			b = append(append(append(b, '"'), k...), '"')
		} else {
			key, err := json.Marshal(k) // escaped exactly as a map key
			if err != nil {
				return nil, err
			}
			b = append(b, key...)
		}
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, '}'), nil
}

// plainKey tells whether a key is ASCII letters and digits, as IAM's keys
// are: such a key needs no JSON escaping.
func plainKey[T string | []byte](k T) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// UnmarshalJSON reads the object MarshalJSON writes, or null.
func (s *Summary) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*s = Summary{}
		return nil
	}
	var m map[string]int32
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if m == nil {
		m = map[string]int32{}
	}
	*s = NewSummary(m)
	return nil
}
