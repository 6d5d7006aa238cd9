//go:build !unix

package storage

import "errors"

// lockFile is not available here: a conditional write to a local store
// needs flock(2), which only Unix systems have.
func lockFile(string) (func(), error) {
	return nil, errors.New("conditional writes to a local store need a Unix system (flock)")
}
