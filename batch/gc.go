package batch

import (
	"bufio"
	"bytes"
	"os"
	"runtime/debug"
	"strconv"
)

// BuildGCPercent is the GOGC a batch build runs with (BuildGC).
const BuildGCPercent = 400

// BuildGC is the garbage collector setting of a batch build, in the batch
// Lambda and in `lambdastack batch`. A build's live heap is one hour's
// events and little else, so the collector runs a quarter as often
// (GOGC 400: 5M events in 2.81 instead of 3.16–3.61 CPU seconds and 1.66
// instead of 1.85–2.25 s, docs/benchmarks.md) and a soft memory limit
// bounds the heap instead: 80% of the function's memory in Lambda
// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB, paid for whether used or not),
// half of machine() elsewhere (the command shares its machine; see
// MachineMemory), which is asked only there. So the largest hour is bound by the memory, not by twice
// the live heap. ok is false (change nothing) when GOGC or GOMEMLIMIT is
// set, or when the memory is unknown.
func BuildGC(getenv func(string) string, machine func() int64) (percent int, limit int64, ok bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	if v := getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"); v != "" {
		mb, err := strconv.ParseInt(v, 10, 64)
		if err != nil || mb <= 0 {
			return 0, 0, false
		}
		return BuildGCPercent, mb << 20 * 8 / 10, true
	}
	mem := machine()
	if mem <= 0 {
		return 0, 0, false
	}
	return BuildGCPercent, mem / 2, true
}

// SetBuildGC applies BuildGC with the process environment and this
// machine's memory; restore puts the previous setting back.
func SetBuildGC() (restore func()) {
	pct, limit, ok := BuildGC(os.Getenv, MachineMemory)
	if !ok {
		return func() {}
	}
	oldPct, oldLimit := debug.SetGCPercent(pct), debug.SetMemoryLimit(limit)
	return func() { debug.SetGCPercent(oldPct); debug.SetMemoryLimit(oldLimit) }
}

// MachineMemory is the memory this process may use, in bytes: the smaller
// of the RAM (/proc/meminfo) and the cgroup's limit (v2 memory.max or v1
// memory.limit_in_bytes), or 0 where neither can be read (not Linux).
func MachineMemory() int64 {
	var best int64
	consider := func(n int64) {
		if n > 0 && (best == 0 || n < best) {
			best = n
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		consider(memTotal(data))
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if data, err := os.ReadFile(f); err == nil {
			// "max" (v2, no limit) does not parse; v1 says no limit with a
			// number near 2^63, which the RAM undercuts.
			n, _ := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
			consider(n)
		}
	}
	return best
}

// memTotal reads MemTotal (in kB) from /proc/meminfo's text, in bytes; 0
// when it is not there.
func memTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("MemTotal:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0
		}
		return kb << 10
	}
	return 0
}
