// Package gen makes synthetic events for tests, benchmarks and the demo:
// seeded and reproducible, in arrival order over a span of hours, with a
// chosen share of bad records (every rejection reason of package event,
// spread evenly), duplicate event_ids (redeliveries) and late events
// (event_time well before the arrival order suggests).
//
// A Generator yields one record at a time and knows exactly what it wrote:
// for every bad record the reason the event model must give, so tests can
// check the validator, the transform and the batch layer against the
// Summary. Write encodes a whole run as NDJSON, or wrapped as the Lambda
// events Firehose and Kinesis deliver (aws-lambda-go's KinesisFirehoseEvent
// and KinesisEvent), one event per line.
//
// It is built for speed (one reused buffer, strconv appends, no
// encoding/json per record). It is not a load producer: sending records to
// a stream is package streaming's job.
package gen
