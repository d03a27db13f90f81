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
// own counters, as varints (most counters are small, so a byte or two
// each, where a map costs about 4 KB and a slice of pairs 800 bytes). It
// marshals as the JSON object the map would (keys in the same order); the
// zero Summary, an account not read, as null.
type Summary struct {
	// keys is every key, each as its length (uvarint) and bytes, in order;
	// the zero handle: no summary.
	keys unique.Handle[string]
	// values is every counter as a zigzag varint, in the keys' order.
	values string
	n      int32 // the number of counters
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
	var b, values []byte
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		values = binary.AppendVarint(values, int64(m[k]))
	}
	return Summary{keys: unique.Make(string(b)), values: string(values), n: int32(len(keys))}
}

// IsZero tells whether the account's summary was not read.
func (s Summary) IsZero() bool { return s.keys == unique.Handle[string]{} }

// Len is the number of counters.
func (s Summary) Len() int { return int(s.n) }

// All yields each key and its counter in key order.
func (s Summary) All() iter.Seq2[string, int32] {
	return func(yield func(string, int32) bool) {
		if s.IsZero() {
			return
		}
		keys, values := s.keys.Value(), s.values
		for range s.n {
			n, w := uvarint(keys)
			key := keys[w : w+n]
			keys = keys[w+n:]
			v, w := varint(values)
			values = values[w:]
			if !yield(key, int32(v)) {
				return
			}
		}
	}
}

// uvarint reads a length or count that binary.AppendUvarint wrote at the
// start of s.
func uvarint(s string) (n, width int) {
	x, w := uvarint64(s)
	return int(x), w
}

// uvarint64 reads what binary.AppendUvarint wrote at the start of s.
func uvarint64(s string) (x uint64, width int) {
	for i, shift := 0, uint(0); i < len(s); i, shift = i+1, shift+7 {
		c := s[i]
		if c < 0x80 {
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
	}
	return 0, len(s) // unreachable: the package wrote s
}

// varint reads what binary.AppendVarint wrote at the start of s.
func varint(s string) (x int64, width int) {
	u, w := uvarint64(s)
	x = int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x, w
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
	if s.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, 40*s.Len()+2)
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
