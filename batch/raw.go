package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/storage"
)

// RawObject is one raw object and the partition hour of its key.
type RawObject struct {
	storage.ObjectInfo
	Hour time.Time
}

// partitionHour reads the hour of a key holding "dt=YYYY-MM-DD/hour=HH/".
func partitionHour(key string) (time.Time, bool) {
	i := strings.Index(key, "dt=")
	if i < 0 || len(key) < i+len("dt=2006-01-02/hour=15/") {
		return time.Time{}, false
	}
	rest := key[i+3:]
	day, err := time.Parse("2006-01-02", rest[:10])
	if err != nil || rest[10:16] != "/hour=" || rest[18] != '/' {
		return time.Time{}, false
	}
	h, err := strconv.Atoi(rest[16:18])
	if err != nil || h < 0 || h > 23 {
		return time.Time{}, false
	}
	return day.Add(time.Duration(h) * time.Hour), true
}

// ListRaw lists the raw objects of hours in [from, to) (zero from: from the
// beginning), listing only the dt= partitions in range when from is set.
// Keys outside the dt=/hour= layout are returned in skipped.
func ListRaw(ctx context.Context, s storage.Store, from, to time.Time) (objs []RawObject, skipped []string, err error) {
	prefix := glue.RawEvents.Prefix
	var prefixes []string
	if from.IsZero() {
		prefixes = []string{prefix}
	} else {
		for d := from.UTC().Truncate(24 * time.Hour); d.Before(to); d = d.Add(24 * time.Hour) {
			prefixes = append(prefixes, prefix+"dt="+d.Format("2006-01-02")+"/")
		}
	}
	for _, p := range prefixes {
		infos, err := s.List(ctx, p)
		if err != nil {
			return nil, nil, fmt.Errorf("listing raw events %s: %w", storage.Join(s.Location(), p), err)
		}
		for _, o := range infos {
			h, ok := partitionHour(o.Key)
			if !ok {
				skipped = append(skipped, o.Key)
				continue
			}
			if (!from.IsZero() && h.Before(from)) || !h.Before(to) {
				continue
			}
			objs = append(objs, RawObject{ObjectInfo: o, Hour: h})
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	return objs, skipped, nil
}

// inputDigest identifies the set of raw objects of one hour: keys, sizes and
// versions (ETag, or modification time where the store has no ETag).
func inputDigest(objs []RawObject) string {
	h := sha256.New()
	for _, o := range objs {
		version := o.ETag
		if version == "" {
			version = o.ModTime.UTC().Format(time.RFC3339Nano)
		}
		fmt.Fprintf(h, "%s\x00%d\x00%s\n", o.Key, o.Size, version)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
