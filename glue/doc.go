// Package glue is the one definition of lambdastack's tables: the raw events,
// the quarantined errors, and the batch, speed and merged views. The CDK app
// builds Glue tables (with partition projection) from it, the Parquet writers
// derive their schemas from it, and it renders Athena DDL. A test in each
// consumer checks it agrees with what is written.
//
// It is plain data with no AWS or Arrow dependency, so every binary can import
// it cheaply. It is not a Glue client: nothing here calls AWS.
package glue
