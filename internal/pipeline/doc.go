// Package pipeline runs the whole lambdastack pipeline once, end to end, on
// whatever stream and stores it is given: generate synthetic events, put
// them on the stream, play Firehose (the transform into the raw store),
// run the speed handler over every shard, build the batch view over the
// closed hours, merge, and reconcile the merged view and the users view,
// read back from storage, against what was generated (events exactly,
// distinct users per day within UsersTolerance of the exact count).
//
// lambdastack demo runs it on an in-process stream and local directories;
// the emulator end-to-end test runs it on Kinesis and S3. It only wires
// together the packages that do the work (internal/gen, streaming,
// streaming/firehose, streaming/transform, streaming/speed, batch); it is
// not a scheduler or a long-running service.
package pipeline
