// Package glue defines the tables of lambdastack once: their columns, types,
// partition keys, storage layout and partition projection. The same
// definitions create the Glue tables (in the CDK app), produce Athena DDL
// (DDL), and give the Parquet writers their column names and types.
//
// It is pure Go with no AWS or CDK dependency. It does not create anything in
// AWS by itself and does not read or write data.
package glue
