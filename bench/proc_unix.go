//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// processUsage reads the rusage that wait4 returned for a finished process.
func processUsage(ps *os.ProcessState) usage {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || ru == nil {
		return usage{}
	}
	rss := ru.Maxrss * 1024 // kilobytes on Linux and the BSDs
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		rss = ru.Maxrss // bytes on Darwin
	}
	return usage{
		cpu:      time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)),
		maxRSS:   rss,
		measured: true,
	}
}

// terminate asks a process to stop the way Ctrl-C or a scheduler would.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
