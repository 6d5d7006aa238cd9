package batch

import "strconv"

// LambdaGCPercent is the GOGC the batch Lambda runs with (LambdaGC).
const LambdaGCPercent = 400

// LambdaGC is the garbage collector setting of the batch Lambda: a
// function's memory is paid for whether used or not, so the collector runs
// a quarter as often (GOGC 400: 5M events took 2.55 instead of 2.92 CPU
// seconds, docs/benchmarks.md) and a soft limit of 80% of the function's
// memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, in MB) bounds the heap instead,
// so the largest hour is bound by the memory, not by twice the live heap.
// ok is false (change nothing) outside Lambda, or when GOGC or GOMEMLIMIT
// is set.
func LambdaGC(getenv func(string) string) (percent int, limit int64, ok bool) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return 0, 0, false
	}
	mb, err := strconv.ParseInt(getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), 10, 64)
	if err != nil || mb <= 0 {
		return 0, 0, false
	}
	return LambdaGCPercent, mb << 20 * 8 / 10, true
}
