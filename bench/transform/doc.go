// Command transform measures the Firehose transform end to end (event JSON
// in, response JSON out, as lambdastack transform --event does it) and an
// encoding/json version of the same logic, over one event file. It prints
// one JSON line per run; bench/transform.sh puts them in a table with the
// Python blueprint's numbers. CPU time is reported beside wall time because
// the benchmark machine is shared.
package main
