package scan

import (
	"encoding/json"
	"math/rand/v2"
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
		if len(back) != len(m) {
			t.Fatalf("case %d: %d entries after a round trip, want %d", i, len(back), len(m))
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
	var back Summary = Summary{{"x", 1}}
	if err := json.Unmarshal([]byte(" null "), &back); err != nil || back != nil {
		t.Errorf("null unmarshals to %v, %v; want nil", back, err)
	}
	if v, ok := NewSummary(map[string]int32{"Users": 3}).Get("Groups"); ok || v != 0 {
		t.Errorf("Get of a key IAM did not report = %d, %v; want 0, false", v, ok)
	}
	if NewSummary(nil) != nil {
		t.Error("NewSummary(nil) is not nil: an unread account would show an empty summary instead of null")
	}
}
