package batch_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

var (
	dataStart = time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	dataEnd   = time.Date(2026, 11, 21, 12, 40, 0, 0, time.UTC)
	runAt     = time.Date(2026, 11, 21, 12, 50, 0, 0, time.UTC) // watermark 12:00
)

// TestBatchThenMerge is the Done-when check: on generated data with
// duplicates and bad records, batch then merge give exact events, value sums
// to 1e-9 and users within hll.Tolerance of an independent computation, at hour and
// day granularity, with the watermark day combining batch and speed.
func TestBatchThenMerge(t *testing.T) {
	ctx := context.Background()
	d := genEvents(1, 6000, dataStart, dataEnd, 0.2)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, d.bad, "firehose")
	writeSpeed(t, out, d.events)

	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	sum, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wm := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	if !sum.Watermark.Equal(wm) {
		t.Fatalf("watermark %s, want %s", sum.Watermark, wm)
	}
	hours := int(wm.Sub(dataStart) / time.Hour)
	if len(sum.Hours) != hours {
		t.Errorf("built %d hours, want %d", len(sum.Hours), hours)
	}
	// Each hour's gzip object carries 4 bad lines.
	var bad int64
	for _, n := range sum.Bad {
		bad += n
	}
	if bad != int64(4*hours) {
		t.Errorf("bad records %v, want %d in all", sum.Bad, 4*hours)
	}
	if sum.Duplicates == 0 {
		t.Error("no duplicates seen; the data has some")
	}
	// The manifest records each object's real size.
	man, err := storage.ReadManifest(ctx, out, batch.BatchManifestKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range man.Objects {
		data, err := storage.ReadAll(ctx, out, o.Key)
		if err != nil || o.Size == 0 || o.Size != int64(len(data)) {
			t.Errorf("manifest: %s size %d, stored %d bytes (%v)", o.Key, o.Size, len(data), err)
		}
	}

	before := func(h time.Time) bool { return h.Before(wm) }
	checkRows(t, "batch hours", readView(t, out, "batch/", agg.Hour), expected(d.events, agg.Hour, before))
	checkRows(t, "batch days", readView(t, out, "batch/", agg.Day), expected(d.events, agg.Day, before))

	m := &batch.Merger{Batch: out, Speed: out, Out: out, Now: fixedNow(runAt)}
	msum, err := m.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if msum.SpeedObjects != 2 {
		t.Errorf("merge read %d speed objects, want the 2 of hour 12 only", msum.SpeedObjects)
	}
	mh := readView(t, out, "merged/", agg.Hour)
	md := readView(t, out, "merged/", agg.Day)
	checkRows(t, "merged hours", mh, expected(d.events, agg.Hour, nil))
	checkRows(t, "merged days", md, expected(d.events, agg.Day, nil))
	for _, r := range mh {
		want := views.LayerBatch
		if !r.WindowStart.Before(wm) {
			want = views.LayerSpeed
		}
		if r.Layer != want || !r.Watermark.Equal(wm) {
			t.Fatalf("merged hour %v: layer %q watermark %s, want %q %s", r.Key(), r.Layer, r.Watermark, want, wm)
		}
	}
	for _, r := range md {
		want := views.LayerBatch
		if r.WindowStart.Equal(wm.Truncate(24 * time.Hour)) {
			want = views.LayerSpeed // the watermark's day holds speed hours
		}
		if r.Layer != want {
			t.Errorf("merged day %v: layer %q, want %q", r.Key(), r.Layer, want)
		}
	}

	// A second run over the same input changes nothing.
	again, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Hours) != 0 || again.Objects != 0 {
		t.Errorf("rerun rebuilt %v from %d objects, want nothing", again.Hours, again.Objects)
	}
}

// failingStore fails every Put after the first n.
type failingStore struct {
	storage.Versioned
	n atomic.Int64
}

var errInjected = errors.New("injected crash")

func (f *failingStore) Put(ctx context.Context, key string, data []byte) error {
	if f.n.Add(-1) < 0 {
		return errInjected
	}
	return f.Versioned.Put(ctx, key, data)
}

// snapshot reads every view object of a location, decoded.
func snapshot(t *testing.T, s storage.Store) map[string][]views.Row {
	t.Helper()
	ctx := context.Background()
	infos, err := s.List(ctx, "batch/")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]views.Row{}
	for _, o := range infos {
		if strings.HasSuffix(o.Key, ".json") {
			continue
		}
		data, err := storage.ReadAll(ctx, s, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		out[o.Key] = rows
	}
	return out
}

// TestCrashThenRerun kills a run part-way (the store fails after a few
// writes: while staging its objects, or after its claim while moving them
// into place), checks the committed manifest is the previous one, then
// reruns and compares with one clean run. A crash past the claim leaves it
// to a run that starts once the claim is stale (storage.StaleAfter); a run
// before that reports lost_race and changes nothing.
func TestCrashThenRerun(t *testing.T) {
	ctx := context.Background()
	d := genEvents(2, 3000, dataStart, dataEnd, 0.1)
	raw := newLocal(t)
	writeRaw(t, raw, d.events, d.bad, "fh")
	early := time.Date(2026, 11, 21, 3, 30, 0, 0, time.UTC)
	rerunAt := runAt.Add(storage.StaleAfter + time.Minute)

	// The run at runAt stages 2 objects (one day), claims, then moves 2.
	for _, failAfter := range []int64{0, 1, 2, 3} {
		crashed := newLocal(t)
		// A published view from earlier, then a crash at runAt.
		if _, err := (&batch.Builder{Raw: raw, Out: crashed, Now: fixedNow(early)}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		before := committed(t, crashed, batch.BatchManifestKey)
		fs := &failingStore{Versioned: crashed}
		fs.n.Store(failAfter)
		if _, err := (&batch.Builder{Raw: raw, Out: fs, Now: fixedNow(runAt)}).Run(ctx); !errors.Is(err, errInjected) {
			t.Fatalf("fail after %d: run error %v, want the injected crash", failAfter, err)
		}
		if after := committed(t, crashed, batch.BatchManifestKey); !reflect.DeepEqual(before, after) {
			t.Fatalf("fail after %d: the crash changed the committed manifest", failAfter)
		}
		if failAfter >= 2 {
			// Claimed: a run before the claim is stale stays out.
			view := snapshot(t, crashed)
			sum, err := (&batch.Builder{Raw: raw, Out: crashed, Now: fixedNow(runAt.Add(time.Minute))}).Run(ctx)
			if err != nil || sum.Status != batch.StatusLostRace {
				t.Fatalf("fail after %d: a run during the claim = %+v, %v; want lost_race", failAfter, sum, err)
			}
			if !reflect.DeepEqual(view, snapshot(t, crashed)) {
				t.Fatalf("fail after %d: a run that lost the race changed the store", failAfter)
			}
		}
		if _, err := (&batch.Builder{Raw: raw, Out: crashed, Now: fixedNow(rerunAt)}).Run(ctx); err != nil {
			t.Fatal(err)
		}

		clean := newLocal(t)
		if _, err := (&batch.Builder{Raw: raw, Out: clean, Now: fixedNow(rerunAt)}).Run(ctx); err != nil {
			t.Fatal(err)
		}
		got, want := snapshot(t, crashed), snapshot(t, clean)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("fail after %d: rerun after a crash differs from a clean run (%d vs %d objects)", failAfter, len(got), len(want))
		}
		if m, err := storage.ReadManifest(ctx, crashed, batch.BatchManifestKey); err != nil || m.Pending != nil {
			t.Errorf("fail after %d: manifest after the rerun = %+v, %v; want committed, nothing pending", failAfter, m, err)
		}
	}
}

// committed is the committed part of the manifest at key.
func committed(t *testing.T, s storage.Store, key string) storage.Manifest {
	t.Helper()
	m, err := storage.ReadManifest(context.Background(), s, key)
	if err != nil {
		t.Fatal(err)
	}
	m.Pending = nil
	return m
}

// TestLateData adds raw events to an hour already batched: the next run
// rebuilds that hour only, and the new events show up.
func TestLateData(t *testing.T) {
	ctx := context.Background()
	d := genEvents(3, 3000, dataStart, dataEnd, 0.1)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(runAt), Lateness: batch.DefaultLateness}
	if _, err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	dayBefore := snapshot(t, out)

	lateHour := time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)
	late := genEvents(4, 200, lateHour, lateHour.Add(time.Hour), 0)
	// Some redeliveries of events already counted in that hour.
	for _, e := range d.events {
		if e.EventTime.Truncate(time.Hour).Equal(lateHour) && len(late.events) < 230 {
			late.events = append(late.events, e)
		}
	}
	writeRaw(t, raw, late.events, nil, "late")

	b.Now = fixedNow(runAt.Add(10 * time.Minute))
	sum, err := b.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Hours) != 1 || !sum.Hours[0].Equal(lateHour) {
		t.Fatalf("rebuilt hours %v, want only %s", sum.Hours, lateHour)
	}
	if !reflect.DeepEqual(sum.Days, []string{"2026-11-21"}) {
		t.Errorf("republished days %v, want only 2026-11-21", sum.Days)
	}
	all := append(append([]eventT(nil), d.events...), late.events...)
	wm := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	before := func(h time.Time) bool { return h.Before(wm) }
	checkRows(t, "batch hours after late data", readView(t, out, "batch/", agg.Hour), expected(all, agg.Hour, before))
	checkRows(t, "batch days after late data", readView(t, out, "batch/", agg.Day), expected(all, agg.Day, before))
	after := snapshot(t, out)
	for key, rows := range dayBefore {
		if strings.Contains(key, "2026-11-20") && !reflect.DeepEqual(after[key], rows) {
			t.Errorf("%s changed though none of its hours got late data", key)
		}
	}
	// Rows of the other hours of the rebuilt day are untouched.
	hk := batch.PartitionKey(glueBatch, agg.Hour, "2026-11-21")
	for i, r := range dayBefore[hk] {
		if r.WindowStart.Equal(lateHour) {
			continue
		}
		found := false
		for _, a := range after[hk] {
			if reflect.DeepEqual(a, r) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("row %d (%v) of an hour without late data changed", i, r.Key())
		}
	}
}

// The merge follows the watermark: after the batch moves on an hour, the
// next merge takes that hour from the batch and drops its speed rows; with
// no batch view yet there is no watermark to merge at: an error, nothing
// published.
func TestMergeFollowsWatermark(t *testing.T) {
	ctx := context.Background()
	d := genEvents(7, 3000, dataStart, dataEnd, 0.1)
	raw, out := newLocal(t), newLocal(t)
	writeRaw(t, raw, d.events, nil, "fh")
	writeSpeed(t, out, d.events)
	m := &batch.Merger{Batch: out, Speed: out, Out: out, Now: fixedNow(runAt)}

	// No batch view: an error saying where the manifest was expected.
	if _, err := m.Run(ctx); !errors.Is(err, batch.ErrNoBatchView) || !strings.Contains(err.Error(), "batch/_manifest.json") {
		t.Fatalf("merge without a batch view: %v, want ErrNoBatchView naming batch/_manifest.json", err)
	}
	if objs, err := out.List(ctx, "merged/"); err != nil || len(objs) > 0 {
		t.Fatalf("merge without a batch view wrote %d objects (%v)", len(objs), err)
	}

	for _, at := range []time.Time{runAt.Add(-2 * time.Hour), runAt} {
		b := &batch.Builder{Raw: raw, Out: out, Now: fixedNow(at), Lateness: batch.DefaultLateness}
		sum, err := b.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m.Now = fixedNow(at)
		if _, err := m.Run(ctx); err != nil {
			t.Fatal(err)
		}
		hours := readView(t, out, "merged/", agg.Hour)
		checkRows(t, "merged hours at "+at.Format(time.Kitchen), hours, expected(d.events, agg.Hour, nil))
		checkRows(t, "merged days at "+at.Format(time.Kitchen), readView(t, out, "merged/", agg.Day), expected(d.events, agg.Day, nil))
		// A row's watermark is the one in force when its day was last
		// written (days wholly before it are not rewritten), so it never
		// exceeds the current one, and the row's layer agrees with it.
		wmDay := sum.Watermark.Truncate(24 * time.Hour)
		for _, r := range hours {
			want := views.LayerBatch
			if !r.WindowStart.Before(r.Watermark) {
				want = views.LayerSpeed
			}
			if r.Layer != want || r.Watermark.After(sum.Watermark) ||
				(!r.WindowStart.Before(wmDay) && !r.Watermark.Equal(sum.Watermark)) {
				t.Fatalf("at %s: hour %v layer %q watermark %s, current watermark %s", at, r.Key(), r.Layer, r.Watermark, sum.Watermark)
			}
		}
	}
}
