// Command lambdastack is the command line of the lambdastack analytics stack.
// Each subcommand lives in its own file and registers itself in init.
package main
