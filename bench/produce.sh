#!/usr/bin/env bash
# Producer throughput against kinesalite on loopback (one shard), with and
# without KPL aggregation, and the Kafka producer into an in-process kfake
# cluster (one partition), the same events in the same run. Installs
# kinesalite into bench/.kinesalite (git-ignored).
# Usage: bench/produce.sh [events]
set -euo pipefail
cd "$(dirname "$0")/.."
events=${1:-100000}
if [ ! -x bench/.kinesalite/node_modules/.bin/kinesalite ]; then
	mkdir -p bench/.kinesalite
	# A package.json of its own, or npm would install into the repository's.
	[ -f bench/.kinesalite/package.json ] || echo '{"private": true}' > bench/.kinesalite/package.json
	(cd bench/.kinesalite && npm i --no-audit --no-fund kinesalite@3.3.3 >/dev/null)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
node bench/.kinesalite/node_modules/.bin/kinesalite --host 127.0.0.1 --port "$port" --createStreamMs 0 --deleteStreamMs 0 >/dev/null 2>&1 &
kpid=$!
trap 'kill $kpid 2>/dev/null' EXIT
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port" && break
	sleep 0.1
done
mkdir -p bench/out
go build -o bench/out/produce ./bench/produce
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
echo "go $(go env GOVERSION), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kinesalite 3.3.3 on 127.0.0.1:$port and kfake in-process, $events events, 1 shard / 1 partition"
{
	for agg in false true; do
		bench/out/produce -endpoint "http://127.0.0.1:$port" -events "$events" -aggregate=$agg
	done
	bench/out/produce -kafka -events "$events"
} | python3 -c '
import json, sys
print("| stream | aggregation | events/s | MiB/s (event bytes) | stream records/s | stream records | retries | read back |")
print("|---|---|---|---|---|---|---|---|")
for line in sys.stdin:
    r = json.loads(line)
    print("| %s | %s | %.0f | %.2f (%.1fx a shard'"'"'s 1 MiB/s) | %.0f | %d | %d | %d of %d |" % (
        "Kinesis (kinesalite)" if r["stream"] == "kinesis" else "Kafka (kfake)",
        "KPL" if r["aggregate"] else ("none" if r["stream"] == "kinesis" else "franz-go batches, lz4"),
        r["events_per_s"], r["mib_per_s"], r["mib_per_s"], r["kinesis_records_per_s"], r["kinesis_records"], r["retries"], r["read_back"], r["events"]))
'
