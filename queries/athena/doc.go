// Package athena runs lambdastack's named queries on Amazon Athena: start
// the execution with the query's parameters as execution parameters, poll
// until it ends (stopping it if the caller gives up), and read every page
// of results into a queries.Result with typed values.
//
// It is a client for the command line, not for Lambda handlers, and it does
// not create Athena resources (the CDK app does).
package athena
