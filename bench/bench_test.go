package main

import (
	"runtime"
	"testing"

	"github.com/orgscan/orgscan/internal/awssim"
	"github.com/orgscan/orgscan/pkg/assume"
	"github.com/orgscan/orgscan/pkg/scan"
)

// BenchmarkScan1000Accounts scans 1,000 accounts through the real SDK and
// an in-process simulator without latency or quotas: what a scan costs in
// CPU and allocations per account, client and simulator together (the
// process-level harness, `go run ./bench`, separates them).
//
//	go test -run '^$' -bench Scan1000 -benchmem ./bench
func BenchmarkScan1000Accounts(b *testing.B) {
	const accounts, concurrency = 1000, 32
	for _, method := range []string{assume.MethodAssumeRoot, assume.MethodAssumeRole} {
		b.Run(method, func(b *testing.B) {
			w := newWorld(b, organization(accounts, 2, 4), awssim.Options{}, concurrency)
			cfg := w.config(method, concurrency)
			b.ReportAllocs()
			for b.Loop() {
				res := w.run(b, cfg)
				if n := scan.Count(res.Rows); n.Errors > 0 || len(res.Rows) != accounts {
					b.Fatalf("%d rows, %d in error; want %d rows and none in error", len(res.Rows), n.Errors, accounts)
				}
			}
			b.StopTimer()
			// What a scan's result (the rows kept for the report) holds per
			// account, as Rows and as the CLI keeps them (CompactRows): the
			// heap with it, less the heap without it.
			held := func(cfg scan.Config) float64 {
				res := w.run(b, cfg)
				var with, without runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&with)
				runtime.KeepAlive(res)
				runtime.GC()
				runtime.ReadMemStats(&without)
				return float64(int64(with.HeapAlloc)-int64(without.HeapAlloc)) / accounts
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*accounts), "ns/account")
			b.ReportMetric(held(cfg), "result-B/account")
			cfg.CompactRows = true
			b.ReportMetric(held(cfg), "kept-B/account")
		})
	}
}
