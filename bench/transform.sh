#!/usr/bin/env bash
# The Firehose transform end to end on one core (event JSON in, response JSON
# out), ours beside an encoding/json version of the same logic and a Python
# version of AWS's Firehose processing blueprint, over the same event file,
# in one run. Usage: bench/transform.sh [seconds per implementation]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
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
