// Package speed is the speed layer: the handler a Kinesis event source
// mapping invokes (events.KinesisEvent in, events.KinesisEventResponse out)
// or a Kafka one (KafkaEvent in, KafkaEventResponse out: records of an MSK
// or self-managed topic by partition, objects keyed
// <topic>-<partition>-<first offset>-<last offset>, failures by offset, a
// null value counted as event.ReasonTombstone), and the local runners that
// feed it from a stream on this machine or an emulator (Runner for Kinesis,
// KafkaRunner for a Kafka consumer group).
//
// Per invocation the handler de-aggregates KPL records, validates every
// user record with internal/event (invalid ones are counted by reason in a
// metric and skipped: the Firehose path keeps them), drops events whose
// event_id was already counted in the batch, aggregates the rest per
// (hour, event_type, source) with tracked fingerprints (internal/agg), and
// writes one Parquet object per hour touched and per shard:
//
//	speed/dt=YYYY-MM-DD/hour=HH/<shard>-<first sequence>-<last sequence>.parquet
//
// A record is validated against its Kinesis arrival time (future_time), not
// the clock, so a retried batch gets the same verdicts.
//
// The key and the bytes depend only on the records of the batch, so a
// retried batch overwrites its own objects instead of adding to them. A
// batch that the event source mapping splits or resumes elsewhere gets other
// keys; the fingerprints in every row let the merge count an event that two
// objects hold once.
//
// Day granularity: the speed layer writes hour objects only. Distinct users
// per day come from merging the hour sketches of a day (agg.Table.Rollup to
// agg.Day, which also unions the fingerprints), which is exact for events
// and value_sum and as good as one day-wide sketch for users, so no separate
// day objects are written.
//
// Runner plays the event source mapping on this machine: it reads the shards
// of any streaming.Source (the in-memory stream, Kinesis on an emulator)
// with streaming.Reader, builds KinesisEvent batches with the real shard ids
// and sequence numbers, retries from the record the handler names, and keeps
// its shard positions under _checkpoints/speed/ in the views store.
//
// It does not read shards itself (streaming.Reader and the Sources do), does
// not decode KPL itself (streaming.Deaggregate), and does not merge speed
// objects with the batch layer (see the merge in batch/).
package speed
