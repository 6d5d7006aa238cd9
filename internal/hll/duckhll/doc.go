// Package duckhll runs the Trino HyperLogLog SQL of the named queries and
// the batch view on DuckDB: Register adds scalar functions over the bytes
// of internal/hll sketches, and Rewrite turns the Trino forms into calls of
// them, so the SQL text deployed to Athena is the SQL run locally.
//
// DuckDB has no aggregate functions written in Go, so the aggregates
// become scalars over DuckDB's list() aggregate:
//
//	CAST(approx_set(x) AS varbinary), approx_set(x)  →  hll_approx_set(list(x))
//	merge(CAST(s AS HyperLogLog))                      →  hll_merge(list(s))
//	cardinality(<one of the above>)                    →  hll_cardinality(…)
//	CAST(s AS HyperLogLog) elsewhere                   →  s
//
// It is for command-line code, queries/local and the sql batch engine only:
// it links DuckDB, which no Lambda binary carries.
package duckhll
