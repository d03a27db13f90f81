package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHz is the unit of /proc/stat (USER_HZ, 100 on every Linux ABI).
const userHz = 100

// machineBusy reads the CPU time every process on the machine has used
// since boot. The difference over a run, minus orgscan's and awssim's own,
// is what other work took from the two of them: this machine is shared,
// and a busy neighbour slows a latency-bound scan as much as a slow scan.
func machineBusy() (time.Duration, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, false
	}
	d, err := parseCPULine(sc.Text())
	if err != nil {
		return 0, false
	}
	return d, true
}

// parseCPULine sums the busy fields of the aggregate "cpu" line of
// /proc/stat: user, nice, system, irq, softirq and steal (not idle, not
// iowait).
func parseCPULine(line string) (time.Duration, error) {
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("not the aggregate cpu line of /proc/stat: %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat field %d %q: %w", i, fields[i], err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHz, nil
}

// processCPU reads the user and system time a running process has used
// (fields 14 and 15 of /proc/PID/stat, after the command name, which may
// hold spaces and parentheses itself).
func processCPU(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	d, err := parseProcStat(string(b))
	return d, err == nil
}

func parseProcStat(stat string) (time.Duration, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in /proc/PID/stat: %q", stat)
	}
	// Field 3 (the state) is the first after the name.
	fields := strings.Fields(stat[end+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("short /proc/PID/stat: %q", stat)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/PID/stat time %q: %w", f, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / userHz, nil
}
