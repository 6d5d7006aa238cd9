// Package agg holds the aggregates that the speed layer, the batch layer and
// the merge share: per key (window start, event_type, source) the number of
// distinct events, the sum of value and a HyperLogLog sketch of user_id
// (internal/hll: the format Athena merges).
// Merging two aggregates is associative and commutative, so partial results
// from any number of batches, layers and hours combine in any order.
//
// An aggregate may also track the 64-bit fingerprints of the events it
// counted (the speed layer does), which makes merging exact under
// redelivery: an event seen by two batches is counted once.
//
// It is not a storage format: internal/views turns aggregates into Parquet rows.
package agg
