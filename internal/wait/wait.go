// Package wait holds the one context-aware sleep that retry and polling
// loops wait with. It is not a clock abstraction: code that needs the time
// takes a Now func() time.Time (STYLE 12).
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx is done, whichever comes first; it
// returns ctx's error in the second case.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
