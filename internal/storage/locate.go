package storage

import (
	"context"
	"fmt"
	"strings"
)

// Below looks for prefix further down a store that has nothing at prefix
// itself, for the message of a location given at the wrong level (demo-out
// where demo-out/raw was meant). It returns the shortest sub-location sub
// such that sub/prefix holds objects, or "" when there is none. It lists
// the whole store, so it belongs on error paths only.
func Below(ctx context.Context, s Store, prefix string) (string, error) {
	infos, err := s.List(ctx, "")
	if err != nil {
		return "", fmt.Errorf("listing %s: %w", s.Location(), err)
	}
	best := ""
	for _, o := range infos {
		i := strings.Index(o.Key, "/"+prefix)
		if i < 0 {
			continue
		}
		if sub := o.Key[:i]; best == "" || len(sub) < len(best) {
			best = sub
		}
	}
	return best, nil
}

// WhereExpected says where prefix was expected under s and, when it is
// further down, where it was found: the tail of an error message.
func WhereExpected(ctx context.Context, s Store, prefix, what string) string {
	msg := fmt.Sprintf("expected %s under %s", what, Join(s.Location(), prefix))
	if sub, err := Below(ctx, s, prefix); err == nil && sub != "" {
		msg += fmt.Sprintf("; found %s under %s: did you mean %s?", prefix, Join(Join(s.Location(), sub), prefix), Join(s.Location(), sub))
	}
	return msg
}
