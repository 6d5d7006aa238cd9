#!/usr/bin/env bash
# The Firehose transform end to end on one core (event JSON in, response JSON
# out), ours beside an encoding/json version of the same logic and a Python
# version of AWS's Firehose processing blueprint, over the same event file,
# in one run; then `lambdastack transform --event FILE` end to end (process
# start to exit, CPU time from /usr/bin/time) beside the Python blueprint
# over the same file of many events, RUNS times each, interleaved.
# Usage: bench/transform.sh [seconds per implementation] [runs]
# BEFORE=path/to/lambdastack adds an older build of the CLI to the end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
runs=${2:-3}
mkdir -p bench/out
go build -o bench/out/transform ./bench/transform
bench/out/transform -write-event bench/out/firehose-event.json
echo "go $(go env GOVERSION), $(python3 --version), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), GOMAXPROCS=1, ${secs}s each"
{
	GOMAXPROCS=1 bench/out/transform -event bench/out/firehose-event.json -impl ours -seconds "$secs"
	GOMAXPROCS=1 bench/out/transform -event bench/out/firehose-event.json -impl encoding/json -seconds "$secs"
	python3 bench/transform_blueprint.py bench/out/firehose-event.json "$secs"
} | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
py = rows[-1]
r0 = rows[0]
print("event: %d records, %d bytes; ours wrote %d bytes" % (r0["records"], r0["payload_bytes"], r0["response_bytes"]))
print("| implementation | records/s (CPU time) | records/s (wall) | x Python (CPU) | x Python (wall) |")
print("|---|---|---|---|---|")
for r in rows:
    print("| %s | %.0f | %.0f | %.1f | %.1f |" % (r["impl"], r["records_per_s_cpu"], r["records_per_s_wall"],
        r["records_per_s_cpu"] / py["records_per_s_cpu"], r["records_per_s_wall"] / py["records_per_s_wall"]))
'

# End to end: 100k records (2% bad) as 29 Firehose events of up to 2.9 MB,
# one per line, as generate writes them; 81 MB.
go build -o bench/out/lambdastack ./cmd/lambdastack
bench/out/lambdastack generate --events 100000 --batch 3500 --bad-ratio 0.02 --format firehose \
	--start 2026-11-22T10 --seed 1 >bench/out/firehose-events.json 2>/dev/null
echo
echo "end to end: $(wc -l <bench/out/firehose-events.json) events, $(wc -c <bench/out/firehose-events.json) bytes, 100000 records; load $(cut -d' ' -f1-3 /proc/loadavg); GOMAXPROCS=1; best and median of $runs"
timed() { # name command...: one line "name user sys wall" (bench/cputime.py: microseconds)
	local name=$1
	shift
	python3 bench/cputime.py "$name" bench/out/response.json "$@"
}
for _ in $(seq "$runs"); do
	timed ours env GOMAXPROCS=1 bench/out/lambdastack transform --event bench/out/firehose-events.json
	if [ -n "${BEFORE:-}" ]; then timed before env GOMAXPROCS=1 "$BEFORE" transform --event bench/out/firehose-events.json; fi
	timed python python3 bench/transform_blueprint.py --file bench/out/firehose-events.json
done | python3 -c '
import sys, statistics
cpu, wall = {}, {}
for l in sys.stdin:
    n, u, s, e = l.split()
    cpu.setdefault(n, []).append(float(u) + float(s))
    wall.setdefault(n, []).append(float(e))
py = min(cpu["python"])
print("| implementation | CPU s (best) | CPU s (median) | wall s (median) | x Python (best CPU) |")
print("|---|---|---|---|---|")
for n in cpu:
    print("| %s | %.3f | %.3f | %.3f | %.1f |" % (n, min(cpu[n]), statistics.median(cpu[n]), statistics.median(wall[n]), py / min(cpu[n])))
'
