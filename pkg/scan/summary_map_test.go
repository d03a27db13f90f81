package scan

import (
	"encoding/json"
	"maps"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestSummaryMarshalsAsTheMapWould: reports written before Summary was a
// slice, and tools reading them, see the same bytes.
func TestSummaryMarshalsAsTheMapWould(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 26))
	odd := []string{"", "<script>", "a&b", "\u202eevil", "ünïcode", `"quoted"`, "\x00nul", "Users", "users", "AccountMFAEnabled"}
	for i := range 200 {
		m := map[string]int32{}
		for range rng.IntN(40) {
			key := odd[rng.IntN(len(odd))]
			if rng.IntN(2) == 0 {
				key += string(rune('A' + rng.IntN(26)))
			}
			m[key] = rng.Int32() - 1<<30
		}
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := json.Marshal(NewSummary(m))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("case %d:\nSummary %s\nmap     %s", i, got, want)
		}
		var back Summary
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			if g, ok := back.Get(k); !ok || g != v {
				t.Fatalf("case %d: Get(%q) after a round trip = %d, %v; want %d", i, k, g, ok, v)
			}
		}
		if back.Len() != len(m) {
			t.Fatalf("case %d: %d entries after a round trip, want %d", i, back.Len(), len(m))
		}
	}
}

func TestSummaryNilAndMissing(t *testing.T) {
	var none Summary
	if b, _ := json.Marshal(struct {
		S Summary `json:"summary"`
	}{none}); string(b) != `{"summary":null}` {
		t.Errorf("nil Summary marshals as %s, want null", b)
	}
	back := NewSummary(map[string]int32{"x": 1})
	if err := json.Unmarshal([]byte(" null "), &back); err != nil || !back.IsZero() {
		t.Errorf("null unmarshals to %v, %v; want the zero Summary", back, err)
	}
	if err := json.Unmarshal([]byte("{}"), &back); err != nil || back.IsZero() || back.Len() != 0 {
		t.Errorf("{} unmarshals to %v, %v; want an empty summary, not none", back, err)
	}
	if v, ok := NewSummary(map[string]int32{"Users": 3}).Get("Groups"); ok || v != 0 {
		t.Errorf("Get of a key IAM did not report = %d, %v; want 0, false", v, ok)
	}
	if !NewSummary(nil).IsZero() {
		t.Error("NewSummary(nil) is not nil: an unread account would show an empty summary instead of null")
	}
}

// TestSummaryKeysOfAnyLength: keys are stored with their length, so a key
// longer than one length byte, or one holding any byte, comes back whole.
func TestSummaryKeysOfAnyLength(t *testing.T) {
	long := strings.Repeat("k", 300)
	m := map[string]int32{long: 1, "": 2, "\x00\xff,": 3, "Users": 4}
	s := NewSummary(m)
	got := map[string]int32{}
	for k, v := range s.All() {
		got[k] = v
	}
	if !maps.Equal(got, m) || s.Len() != len(m) {
		t.Errorf("All = %q, want %q", got, m)
	}
	if v, ok := s.Get(long); !ok || v != 1 {
		t.Errorf("Get(long key) = %d, %v", v, ok)
	}
	if other := NewSummary(map[string]int32{long: 9, "": 8, "\x00\xff,": 7, "Users": 6}); other.keys != s.keys {
		t.Error("two summaries with the same keys do not share them")
	}
}
