// Package event is the event contract of lambdastack: it parses one JSON
// event, validates it against the rules of DESIGN.md, and either returns the
// typed, UTC-normalized event or a rejection with a stable reason code. It
// also writes the enriched event (received_time, dt, hour) as canonical JSON
// and reads such lines back.
//
// Validation is one hand-written scan over the bytes, with no reflection and
// no intermediate tree, because it sits on the hot path of the Firehose
// transform and the speed layer. It is not a general JSON library: it reads
// exactly one object and knows only the event's fields (others are checked
// for syntax and skipped).
package event
