package views

import (
	"fmt"
	"sort"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/hll"
)

// UserRollupKeys are the keys of the users view rows a row of key k goes
// into: its event type over all sources, its source over all types (unless
// the source is literally glue.All), and everything.
func UserRollupKeys(k agg.Key) []agg.Key {
	w := k.WindowStart.UTC()
	keys := []agg.Key{
		{WindowStart: w, EventType: k.EventType, Source: glue.All},
		{WindowStart: w, EventType: glue.All, Source: glue.All},
	}
	if k.Source != glue.All {
		keys = append(keys, agg.Key{WindowStart: w, EventType: glue.All, Source: k.Source})
	}
	return keys
}

// UserRollup builds the users_view rows of merged-view rows (one
// granularity): for every window, one row per event type over all sources
// (source glue.All), one per source over all event types (event_type
// glue.All) and one over everything, each holding the union of the user
// sketches of the rows that went into it and its estimate. Estimates do not
// add across keys (a user seen under two types or sources would count
// twice); merged sketches count each user once.
//
// A rollup row is from the speed layer when any row that went into it is
// (the rule of the merged view's day rows, whose watermark day combines
// batch and speed hours), otherwise from the batch layer; it carries the
// rows' watermark (the latest, should they differ). Rows come back in key
// order; Events and ValueSum stay zero (users_view has no such columns).
//
// A source literally named "*" gets no per-source row: its users are in
// the rows of their event types and in the overall row, and a per-source
// row would be taken for the overall one.
func UserRollup(rows []Row) ([]Row, error) {
	type acc struct {
		sketch    *hll.Sketch
		speed     bool
		watermark time.Time
	}
	out := map[agg.Key]*acc{}
	add := func(k agg.Key, sk *hll.Sketch, r *Row) error {
		a, ok := out[k]
		if !ok {
			a = &acc{sketch: hll.New()}
			out[k] = a
		}
		if err := a.sketch.Union(sk); err != nil {
			return fmt.Errorf("merging the user sketch of %s/%s/%s into %s/%s: %w",
				r.WindowStart.Format(time.RFC3339), r.EventType, r.Source, k.EventType, k.Source, err)
		}
		a.speed = a.speed || r.Layer == LayerSpeed
		if r.Watermark.After(a.watermark) {
			a.watermark = r.Watermark
		}
		return nil
	}
	// Each row's sketch is decoded into one scratch sketch (its storage
	// reused: no allocation per row) and merged from there.
	sk := hll.New()
	for i := range rows {
		r := &rows[i]
		if err := r.SketchInto(sk); err != nil {
			return nil, err
		}
		for _, k := range UserRollupKeys(r.Key()) {
			if err := add(k, sk, r); err != nil {
				return nil, err
			}
		}
	}
	keys := make([]agg.Key, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
	res := make([]Row, 0, len(keys))
	for _, k := range keys {
		a := out[k]
		sketch, err := a.sketch.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("encoding the user sketch of %s/%s/%s: %w", k.WindowStart.Format(time.RFC3339), k.EventType, k.Source, err)
		}
		layer := LayerBatch
		if a.speed {
			layer = LayerSpeed
		}
		res = append(res, Row{WindowStart: k.WindowStart, EventType: k.EventType, Source: k.Source,
			Users: a.sketch.Cardinality(), UsersSketch: sketch, Layer: layer, Watermark: a.watermark})
	}
	return res, nil
}
