package scan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unique"
)

// SummaryEntry is one counter of IAM's SummaryMap.
type SummaryEntry struct {
	Key   string
	Value int32
}

// Summary is IAM's SummaryMap for one account, sorted by key. It is a
// slice, not a map: a map of the 34 counters IAM reports costs about 4 KB
// of peak heap per row, which was half the memory of a 10,000-account
// scan; the slice costs under 1 KB. It marshals as the JSON object the map
// would (keys in the same order), and a nil Summary as null.
type Summary []SummaryEntry

// NewSummary sorts m into a Summary. Every account reports the same few
// dozen keys: they are interned, one copy of each for the whole scan.
func NewSummary(m map[string]int32) Summary {
	if m == nil {
		return nil
	}
	s := make(Summary, 0, len(m))
	for k, v := range m {
		s = append(s, SummaryEntry{Key: unique.Make(k).Value(), Value: v})
	}
	slices.SortFunc(s, func(a, b SummaryEntry) int { return strings.Compare(a.Key, b.Key) })
	return s
}

// Get returns the counter of that key, and whether IAM reported it.
func (s Summary) Get(key string) (int32, bool) {
	i, found := slices.BinarySearchFunc(s, key, func(e SummaryEntry, k string) int { return strings.Compare(e.Key, k) })
	if !found {
		return 0, false
	}
	return s[i].Value, true
}

// MarshalJSON writes {"Key":value,...} in key order.
func (s Summary) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 40*len(s)+2)
	b = append(b, '{')
	for i, e := range s {
		if i > 0 {
			b = append(b, ',')
		}
		if plainKey(e.Key) {
			b = append(append(append(b, '"'), e.Key...), '"')
		} else {
			key, err := json.Marshal(e.Key) // escaped exactly as a map key
			if err != nil {
				return nil, err
			}
			b = append(b, key...)
		}
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(e.Value), 10)
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
		*s = nil
		return nil
	}
	var m map[string]int32
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*s = NewSummary(m)
	return nil
}
