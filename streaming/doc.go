// Package streaming is the stream seam of lambdastack and the ingest side
// built on it: the Sink and Source interfaces (producing to, and reading
// shards of, one stream), their Kinesis and in-memory implementations, a
// Producer with batching, retries and backpressure, a shard Reader that
// resumes from saved positions and follows resharding, and the KPL
// aggregated-record format.
//
// An MSK (Kafka) implementation stands beside Kinesis by implementing Sink
// and Source; nothing above this package needs to change. The package does
// not validate events (see internal/event) and does not write storage (see
// streaming/firehose).
package streaming
