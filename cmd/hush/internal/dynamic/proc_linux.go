package dynamic

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// processStart is the start time of process pid (clock ticks since boot,
// field 22 of /proc/PID/stat), which tells a process from a later one that
// got the same pid. ok is false when the process does not exist or has
// exited (a zombie).
func processStart(pid int) (start uint64, ok bool) {
	if pid <= 0 {
		return 0, false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	// After "pid (comm)": state is field 3, starttime field 22.
	f := strings.Fields(s[i+1:])
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return 0, false
	}
	start, err = strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false
	}
	return start, true
}

// processAlive reports whether the process pid that started at start (0:
// unknown) still runs.
func processAlive(pid int, start uint64) bool {
	got, ok := processStart(pid)
	if !ok {
		return false
	}
	return start == 0 || got == start
}
