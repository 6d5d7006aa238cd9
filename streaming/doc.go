// Package streaming is the stream seam of lambdastack and the ingest side
// built on it: the Sink and Source interfaces (producing to, and reading
// shards of, one stream), their Kinesis and in-memory implementations, a
// Producer with batching, retries and backpressure, a shard Reader that
// resumes from saved positions and follows resharding, and the KPL
// aggregated-record format.
//
// Kafka (Amazon MSK or any Kafka, on franz-go) stands beside Kinesis:
// KafkaSink (an idempotent producer) and KafkaSource (partition = shard,
// offset = position) implement the same seam, KafkaGroupReader consumes a
// topic in a consumer group as Lambda's Kafka event source mapping does, and
// KafkaConfig picks SASL (none, PLAIN, SCRAM-SHA-512, AWS_MSK_IAM) and TLS.
// The package does not validate events (see internal/event) and does not
// write storage (see streaming/firehose).
package streaming
