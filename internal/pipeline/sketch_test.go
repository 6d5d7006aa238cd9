package pipeline_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/gen"
	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/pipeline"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/streaming"
)

// TestEveryViewRowSketchIsItsUsers runs the pipeline on generated events
// and checks every row of every view (speed, batch, merged, users): its
// users_sketch has the bytes of the sketch made by adding its distinct
// user_ids to a new sketch (what `lambdastack sketch build` and Athena's
// approx_set make), and users is that sketch's cardinality. The distinct
// users come from the generated records, validated here.
func TestEveryViewRowSketchIsItsUsers(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)
	cfg := gen.Config{Seed: 11, Events: 20000, Start: now.Add(-26 * time.Hour), Hours: 26, Users: 4000,
		Types: gen.DefaultTypes, Sources: gen.DefaultSources, BadRatio: 0.02, DupRatio: 0.05, LateRatio: 0.05}
	raw, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	vs, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stream := streaming.NewMemStream(2)
	stream.Now = func() time.Time { return now }
	rep, err := pipeline.Run(ctx, pipeline.Config{Gen: cfg, Now: now, Lateness: 15 * time.Minute, Stream: "s",
		Sink: stream, Source: stream, BufferBytes: 256 << 10, ReadLimit: 500, Raw: raw, Views: vs})
	if err != nil {
		t.Fatal(err)
	}
	wm := rep.Reconciled.Watermark

	// The distinct users of every (hour, type, source), and the user of
	// every event by fingerprint (speed rows list the events they count).
	hourUsers := map[agg.Key]map[string]bool{}
	userOf := map[uint64]string{}
	g, err := gen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for !g.Done() {
		rec := g.Next()
		e, rej := event.Validate(rec.Data, rec.Arrival)
		if rej != nil {
			continue
		}
		userOf[agg.Fingerprint(e.EventID)] = e.UserID
		k := agg.Key{WindowStart: agg.Window(e.EventTime, agg.Hour), EventType: e.EventType, Source: e.Source}
		if hourUsers[k] == nil {
			hourUsers[k] = map[string]bool{}
		}
		hourUsers[k][e.UserID] = true
	}
	// usersOf is the distinct users of the hours in [from, to) matching
	// typ and src (glue.All matches every one), before the watermark only
	// for the batch view.
	usersOf := func(from, to time.Time, typ, src string, batchOnly bool) map[string]bool {
		out := map[string]bool{}
		for k, us := range hourUsers {
			if k.WindowStart.Before(from) || !k.WindowStart.Before(to) || (batchOnly && !k.WindowStart.Before(wm)) ||
				(typ != glue.All && k.EventType != typ) || (src != glue.All && k.Source != src) {
				continue
			}
			for u := range us {
				out[u] = true
			}
		}
		return out
	}

	rows, dense := 0, 0
	for _, table := range []glue.Table{glue.SpeedView, glue.BatchView, glue.MergedView, glue.UsersView} {
		objs, err := vs.List(ctx, table.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range objs {
			if !strings.HasSuffix(o.Key, ".parquet") {
				continue
			}
			data, err := storage.ReadAll(ctx, vs, o.Key)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := views.Decode(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			span := time.Hour
			if strings.Contains(o.Key, "granularity=day/") {
				span = 24 * time.Hour
			}
			for _, r := range rs {
				var users map[string]bool
				if table.Name == glue.SpeedView.Name {
					users = map[string]bool{}
					for _, fp := range r.Fingerprints {
						users[userOf[fp]] = true
					}
				} else {
					users = usersOf(r.WindowStart, r.WindowStart.Add(span), r.EventType, r.Source, table.Name == glue.BatchView.Name)
				}
				want := hll.New()
				for u := range users {
					want.AddString(u)
				}
				wb, err := want.MarshalBinary()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(r.UsersSketch, wb) || r.Users != want.Cardinality() {
					t.Errorf("%s %s %v: users %d and its sketch are not those of its %d distinct users (cardinality %d)",
						table.Name, o.Key, r.Key(), r.Users, len(users), want.Cardinality())
				}
				if !want.Sparse() {
					dense++
				}
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s has no rows", table.Name)
		}
		rows += n
	}
	if dense == 0 {
		t.Error("no row with a dense sketch: the dense form went untested")
	}
	t.Logf("%d rows checked, %d of them dense", rows, dense)
}
