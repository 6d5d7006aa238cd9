package main

// Memory of each function, in MB, from the figures in docs/benchmarks.md
// ("Cost per million events and sizing"). Lambda gives a function CPU in
// proportion to its memory (one vCPU at 1 769 MB), so for CPU-bound work
// every size up to 1 769 MB costs the same GB-seconds per event; beyond
// what the work needs in memory, a size buys latency, or headroom.
const (
	// TransformMemoryMB: the transform is CPU-bound on one core (about 1.1M
	// records per CPU-second; a Firehose batch is at most 6 MB), so one
	// full vCPU costs the same per record as 1 024 MB and answers Firehose
	// 1.7x sooner.
	TransformMemoryMB = 1769
	// SpeedMemoryMB: the speed handler takes about 1.7 CPU-seconds per
	// million records (parse, handler, response: ~600 000 records per
	// CPU-second) and one batch of at most 10 000 records; it also waits on
	// one S3 PUT per hour a batch touches, which costs in proportion to
	// memory, so it stays below a full vCPU.
	SpeedMemoryMB = 1024
	// BatchMemoryMB: the go engine holds one hour: peak RSS 266 MB at 1M
	// and 812 MB at 4M events in the hour (gzip NDJSON), live heap about
	// 140 MB per million events; with the Lambda's soft limit at 80%
	// (batch.BuildGC) 3 008 MB holds hours of ~15M events, extrapolated.
	// Raise it (to 10 240 MB: ~55M) for busier hours, or use the athena
	// engine.
	BatchMemoryMB = 3008
	// MergeMemoryMB: a merge that rewrote 11 days peaked at 207 MB (eight
	// days in flight whatever the number of days), and 30 days take
	// 0.64-0.72 CPU-seconds (~2.2-2.5 s at 512 MB), mostly waiting on S3
	// in production; a scheduled run rewrites one or two days.
	MergeMemoryMB = 512
)
