// Package hll is the HyperLogLog sketch of the views' users_sketch column,
// in the serialized form that Athena (Trino) reads and writes: Airlift's
// HyperLogLog with 4096 buckets (p = 12), the layout `approx_set` makes and
// `merge(CAST(x AS HyperLogLog))` and `cardinality` take. A sketch built
// here and one built by Athena from the same values have the same bytes, so
// the two merge in either place and give the same count.
//
// A sketch starts sparse (one 32-bit entry per distinct 26-bit hash prefix,
// almost exact while small) and turns dense (4096 registers) at the point
// Airlift does, so the bytes match at every size. Values are hashed with
// MurmurHash3 x64 128 (seed 0, the first 64-bit word), as Trino hashes a
// varchar's UTF-8 bytes.
//
// Decode is strict: a wrong tag, a precision other than 12, a wrong length,
// sparse entries out of order or repeated, a zero overflow and other shapes
// Airlift never writes are errors that say what is wrong. Bytes in the
// sketch format this project used before (axiomhq's) are refused with an
// error that says how to rebuild the views.
//
// It is not a general HyperLogLog: the precision is fixed at 12 (what Athena
// writes), and it knows nothing of views, rows or Parquet (internal/agg and
// internal/views own those).
package hll
