// Command produce measures the Kinesis producer against an emulator
// (kinesalite on loopback, see bench/produce.sh): it generates events, puts
// them on a one-shard stream with and without KPL aggregation, reads the
// stream back to check every event arrived, and prints one JSON line per
// run.
package main
