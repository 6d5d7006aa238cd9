// Package transform is the Firehose transform of lambdastack: for each
// record of a Firehose processing event it de-aggregates KPL records,
// validates and enriches the event (internal/event) and returns every
// recordId exactly once. Events from an MSK source carry kafkaRecordValue
// (and mskRecordMetadata) instead of data and are answered in
// kafkaRecordValue, under the same rules; their values are never KPL, and a
// null value (a Kafka tombstone) is kept under errors/tombstone/.
//
// Valid events come back Ok as one enriched JSON line with the partition
// keys route=events, dt and hour. Rejected events are kept: Ok, as an error
// envelope (reason, field, detail, received_time, the original record) with
// route=errors/<reason> and the dt and hour they were received. Only a
// record whose bytes cannot be handled at all (data that is not base64, a
// KPL aggregate whose protobuf is broken) is ProcessingFailed. The delivery
// stream's S3 prefix is therefore
//
//	!{partitionKeyFromLambda:route}/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/
//
// which gives events/dt=…/hour=…/ and errors/<reason>/dt=…/hour=…/.
//
// A KPL aggregated record (Firehose de-aggregates records from a Kinesis
// source itself, so this is for direct puts) comes back as one recordId
// with one enriched line or envelope per user record, under the partition
// keys of the first one: a recordId has one set of keys.
//
// The response stays under MaxResponseBytes (6,000,000 by default; Lambda
// allows 6 MB). Enrichment makes records larger, so when a batch's
// enriched response would not fit, its last records come back
// ProcessingFailed and Firehose keeps them as they were under its error
// prefix. A Kinesis-source batch of ~300-byte events fits whole (the
// request's Kinesis metadata outweighs the growth); a 3 MB direct-put
// batch of small events does not, where a 2 MB processor buffer does (see
// TestResponseLimitAtTheEdge).
//
// received_time is the record's approximateArrivalTimestamp (the handler's
// clock when the event has none), so processing the same records twice
// gives the same bytes.
//
// Invoke reads and writes the Lambda payload with its own scanner, without
// reflection, because decoding the event is most of the work. The package
// does not read streams or write storage: lambdas/transform runs it on AWS
// and streaming/firehose runs it locally.
package transform
