package output

import (
	"fmt"
	"io"
	"testing"

	"github.com/orgscan/orgscan/pkg/scan"
)

// manyRows is a report of n accounts cycling through the golden rows, with
// details, so every code path of every writer runs.
func manyRows(n int) *scan.Report {
	rep := goldenReport(true)
	base := rep.Accounts
	rep.Accounts = make([]scan.Row, n)
	for i := range rep.Accounts {
		rep.Accounts[i] = base[i%len(base)]
		rep.Accounts[i].AccountID = fmt.Sprintf("%012d", (i*7919)%1_000_000_000_000)
	}
	rep.Scan.Counts = scan.Count(rep.Accounts)
	return rep
}

// BenchmarkWriters renders 10,000 accounts in each format.
func BenchmarkWriters(b *testing.B) {
	rep := manyRows(10_000)
	for _, f := range Formats() {
		b.Run(f, func(b *testing.B) {
			for b.Loop() {
				w, err := New(f, io.Discard, Options{Details: true, Now: fixedAt})
				if err != nil {
					b.Fatal(err)
				}
				for i := range rep.Accounts {
					if err := w.WriteRow(&rep.Accounts[i]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(rep); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
