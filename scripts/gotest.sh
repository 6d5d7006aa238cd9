#!/usr/bin/env bash
# Runs `go test -count=1 -v` over the packages given and prints a short
# account instead of the whole verbose log: each package's result, each
# integration test (TestIntegration…: the log shows the emulator tests ran),
# each skip with its reason, and the whole output of anything that failed.
# The full log is kept in bin/test.log (or $GOTEST_LOG). Exit status is go test's.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p bin
log=${GOTEST_LOG:-bin/test.log}
go test -count=1 -v "$@" >"$log" 2>&1
rc=$?

# Package results and top-level integration tests.
grep -E '^(ok|FAIL)[[:space:]]|^--- (PASS|FAIL): TestIntegration' "$log" || true
# Skips, with the line before, which says why.
grep -E -B1 '^\s*--- SKIP' "$log" | grep -v '^--$' || true

passed=$(grep -cE '^--- PASS: TestIntegration' "$log" || true)
skipped=$(grep -cE '^--- SKIP: TestIntegration' "$log" || true)
echo "emulator tests: ${passed} passed, ${skipped} skipped"
# Every test and subtest, as one closing line.
all_pass=$(grep -cE '^\s*--- PASS' "$log" || true)
all_fail=$(grep -cE '^\s*--- FAIL' "$log" || true)
all_skip=$(grep -cE '^\s*--- SKIP' "$log" || true)

if [ "$rc" -ne 0 ]; then
	echo
	echo "=== go test failed (exit $rc); output without passing-test noise (full log: $log):"
	grep -vE '^\s*(=== (RUN|PAUSE|CONT|NAME)|--- PASS)' "$log"
	# Last, where a cut view of this output still shows it: the output of
	# each failing test that has no failing subtest, from its "=== RUN" to
	# the next test's.
	echo
	echo "=== the failing tests' own output:"
	awk 'NR == FNR { if (match($0, /^[[:space:]]*--- FAIL: [^ ]+/)) { n = $3; failed[n] = 1; p = n; while (sub(/\/[^\/]*$/, "", p)) parent[p] = 1 } next }
		/^=== RUN / { cur = $3; on = (cur in failed) && !(cur in parent) }
		/^(ok|FAIL|PASS$)/ { on = 0 }
		on' "$log" "$log"
fi
echo "tests: ${all_pass} passed, ${all_fail} failed, ${all_skip} skipped"
exit "$rc"
