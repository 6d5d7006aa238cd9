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
// day's objects once its hours are built. Each partition is one object, replaced whole by Put; the manifest is
// written last and is the commit point. A run that dies part-way leaves the
// published manifest untouched; objects it already replaced hold complete,
// correct data, and the next run keeps from them only the hours the
// manifest vouches for and rebuilds the rest, ending in the same state as
// one clean run.
//
// Merger builds the serving view (merged/granularity=hour|day/dt=…/): batch
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
