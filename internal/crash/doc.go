// Package crash holds no code: its tests kill the lambdastack binary's
// batch and merge with SIGKILL at random points, rerun them, and require
// the views a clean run writes.
package crash
