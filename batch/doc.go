// Package batch is the batch layer and the serving-view merge.
//
// Aggregate reads raw events (NDJSON, plain or gzip, and Parquet written by
// any engine; only the needed columns), validates them, deduplicates exactly
// by event_id within each hour and aggregates per (hour, event_type,
// source). Bad records are counted by reason and never stop a run. Decoding
// runs in parallel: Parquet by row group (column readers directly for the
// common layout, pqarrow for any other), NDJSON in pieces of whole lines
// parsed while the object streams in (lines exactly as the transform writes
// them take a fast path; any other line goes through the event package's
// parser, which decides). Aggregation is split into a fixed number of
// fingerprint partitions, each deduplicating on its own with the event_ids
// compared on a fingerprint match (exact), merged in a fixed order so the
// output does not depend on the number of cores.
//
// Builder maintains the batch view (batch/granularity=hour|day/dt=…/): the
// watermark is the end of the last hour closed for longer than the allowed
// lateness; the manifest (batch/_manifest.json) records the watermark and,
// per hour, a digest of the raw objects it was built from, so a later run
// rebuilds exactly the hours that got late data, and the days holding them.
// It aggregates hour by hour (memory holds one hour's events) and writes a
// day's objects once its hours are built. Each partition is one object at
// a fixed key (the Glue tables read the partition directories, so a run
// cannot publish beside the old objects under new names).
//
// Concurrent runs (two schedules, a retry beside a slow run) are settled by
// the conditional commit of storage.Commit. A run reads the manifest and
// its version (S3 ETag; a content digest locally) first, and writes its
// objects under batch/_staging/<run>/, never at their keys. It then claims
// the commit: a put of the manifest conditional on that version (S3
// If-Match, or If-None-Match: * for the first manifest; locally a compare
// under an flock(2) lock, which the kernel drops when a holder dies, so no
// stale lock exists and none is ever broken). Only one of two racing runs
// can claim. The loser deletes its staging prefix and reports "another run
// committed first" (StatusLostRace, exit 0 for the command line): it never
// wrote at a published key, so the store is exactly what the winner makes
// of it. The winner's claim is the old manifest plus the pending moves;
// it copies its staged objects into place, replaces the manifest by the new
// one (conditional on the claim) and deletes its staging prefix. Readers
// follow the committed manifest only, and ignore a claim.
//
// A run that dies before its claim leaves the published manifest
// untouched; its staged objects are deleted on the way out, or are garbage
// under _staging/ that no reader looks at. A run that dies after its claim
// leaves a complete claim (its staged objects stay until it is done): runs
// in the next storage.StaleAfter report lost_race, and the first run after
// that finishes the claim with the same copies and then does its own work.
// Objects replaced during the moves hold complete, correct data: the next
// run keeps from them only the hours the committed manifest vouches for.
//
// Merger builds the serving view (merged/granularity=hour|day/dt=…/),
// committed the same way under merged/_staging/: batch
// rows for windows before the batch watermark, speed rows (merged by key,
// deduplicated by fingerprint) from it on. The day holding the watermark
// combines batch hours before it and speed hours after it into one row.
// Only the days that can have changed are rewritten (days whose batch
// objects changed, and days from the older of the previous and the current
// watermark on), and only speed partitions from the watermark on are listed
// and read. A row's watermark column is the watermark in force when its day
// was last written, never later than the current one.
//
// The package is not the speed layer (streaming/) and does not define the
// view schemas (glue/, internal/views).
//
// With each merged day, Merger also publishes the users view
// (users/granularity=hour|day/dt=…/, rollup.go): distinct users per window
// over all sources for each event type, over all types for each source and
// over everything, the merged rows' sketches merged (views.UserRollup),
// written before the merged manifest and listed in it. A day merged before
// the users view existed is rewritten once to get it.
package batch
