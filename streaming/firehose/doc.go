// Package firehose is a local stand-in for Amazon Data Firehose with a
// Kinesis source, dynamic partitioning and the lambdastack transform: it
// reads every shard of a stream through the streaming.Source seam,
// de-aggregates KPL records as Firehose does, builds Firehose processing
// events, calls the same transform handler as the Lambda, and writes gzip
// NDJSON objects per buffer into a storage.Store with Firehose's layout:
//
//	events/dt=YYYY-MM-DD/hour=HH/<stream>-<shard>-<first seq>-<last seq>.gz
//	errors/<reason>/dt=YYYY-MM-DD/hour=HH/…
//	processing-failed/dt=YYYY-MM-DD/hour=HH/…   (records the transform could not handle)
//
// Object names come from the shard and the sequence numbers they cover,
// and a buffer closes after a whole stream record once it holds BufferBytes,
// so a rerun after a crash rewrites the same objects instead of adding
// duplicates. Shard positions are saved in the store (CheckpointKey) after
// every flush, and a new Runner resumes from them.
//
// It runs the ingest half of lambdastack demo and of the emulator
// end-to-end test. It is not shipped to AWS: there, Firehose does this.
package firehose
