package batch

import (
	"context"
	"encoding/hex"
	"fmt"

	"github.com/zeebo/xxh3"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// The users view (glue.UsersView) is published by the merge beside the
// merged view: for each day the merge rewrites, its hour and day rows are
// rolled up over event types and sources (views.UserRollup) from the very
// rows written to merged/, and the objects join the merged manifest.

// usersBackfill marks for rewriting the published merged days that have no
// users view yet (merged before the users view existed), so one merge
// after an upgrade publishes it for every day.
func usersBackfill(prev MergedMeta, rewrite map[string]bool) {
	for dt := range prev.Days {
		if _, ok := prev.Users[dt]; !ok {
			rewrite[dt] = true
		}
	}
}

// publishUsers writes the users view objects of dt, rolled up from the
// merged hour and day rows of dt, and returns a digest of what it wrote and
// the number of rows.
func (m *Merger) publishUsers(ctx context.Context, commit *storage.Commit, dt string, hours, days []views.Row) (string, int, error) {
	h := xxh3.New()
	n := 0
	for _, w := range []struct {
		g    agg.Granularity
		rows []views.Row
	}{{agg.Hour, hours}, {agg.Day, days}} {
		key := PartitionKey(glue.UsersView, w.g, dt)
		rows, err := views.UserRollup(w.rows)
		if err != nil {
			return "", 0, fmt.Errorf("rolling up the users of %s: %w", key, err)
		}
		data, err := views.Encode(glue.UsersView, rows)
		if err != nil {
			return "", 0, fmt.Errorf("encoding users view %s: %w", key, err)
		}
		if err := commit.Put(ctx, key, data); err != nil {
			return "", 0, fmt.Errorf("writing users view %s: %w", storage.Join(m.Out.Location(), key), err)
		}
		h.Write(data)
		n += len(rows)
	}
	return contentDigest(h), n, nil
}

// usersObjects are the users view objects of dt, for the merged manifest.
func usersObjects(dt string) []storage.ObjectInfo {
	return []storage.ObjectInfo{
		{Key: PartitionKey(glue.UsersView, agg.Hour, dt)},
		{Key: PartitionKey(glue.UsersView, agg.Day, dt)},
	}
}

// contentDigest is the merged manifest's digest of a day's objects (the
// bytes written to h, which is XXH3: the merge hashes every object it
// writes, and SHA-256 was ~9% of its CPU): 128 bits in hex. Nothing
// compares these digests across versions of the code.
func contentDigest(h *xxh3.Hasher) string {
	sum := h.Sum128().Bytes()
	return hex.EncodeToString(sum[:])
}
