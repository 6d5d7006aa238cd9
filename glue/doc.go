// Package glue is the one definition of lambdastack's tables: the raw events,
// the quarantined errors, the batch, speed and merged views, and the users
// view (distinct users rolled up over event types and sources). The CDK app
// builds Glue tables (with partition projection) from it, the Parquet writers
// derive their schemas from it, and it renders Athena DDL. A test in each
// consumer checks it agrees with what is written.
//
// It is plain data with no AWS or Arrow dependency, so every binary can import
// it cheaply. It is not a Glue client: nothing here calls AWS.
package glue
