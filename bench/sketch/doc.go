// Package sketch compares internal/hll (Athena's HyperLogLog, p = 12) with
// the axiomhq HyperLogLog (p = 14) the views used before: add, merge,
// cardinality and encoded size in one benchmark run, and the accuracy of
// both at 1k, 100k and 1M distinct users. It is a module of its own so that
// axiomhq stays out of the main module. Figures: docs/benchmarks.md.
package sketch
