//go:build !unix

package main

import "os"

// processUsage has no rusage to read outside Unix; the figures show as zero
// and the memory and CPU targets as unmeasured.
func processUsage(*os.ProcessState) usage { return usage{} }

func terminate(p *os.Process) error { return p.Kill() }
