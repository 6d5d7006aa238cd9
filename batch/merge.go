package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/zeebo/xxh3"
	"golang.org/x/sync/errgroup"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// MergedManifestKey is where the serving view's manifest lives.
var MergedManifestKey = glue.MergedView.Prefix + "_manifest.json"

// MergedMeta is what the merged manifest remembers.
type MergedMeta struct {
	Watermark time.Time `json:"watermark"`
	// Batch is the batch day digest each merged day was built from.
	Batch map[string]string `json:"batch"`
	// Days lists every published merged day with its digest.
	Days map[string]string `json:"days"`
	// Users lists every day whose users view is published, with its
	// digest (rollup.go).
	Users map[string]string `json:"users,omitempty"`
}

// Merger builds the serving view from the batch and speed views.
type Merger struct {
	Batch, Speed, Out storage.Store
	Now               func() time.Time
	// RequireSpeed, when set, makes a speed location without any speed
	// object an error (ErrNoSpeedObjects); its text says where the speed
	// location came from ("--speed defaults to --batch"). The scheduled
	// merge leaves it empty: a stream can be idle.
	RequireSpeed string
	// SpeedBeforeBatch, when set, serves the speed view alone (everything
	// from a zero watermark) until the first batch view is published, so
	// a new deployment's serving view is fresh from its first events
	// instead of empty until the first closed hour. The scheduled merge
	// sets it; the command line leaves it off, where a missing batch view
	// is most often a wrong location.
	SpeedBeforeBatch bool
}

// MergeSummary says what a merge did.
type MergeSummary struct {
	// Status is StatusOK, or StatusLostRace when another merge committed
	// first (this one then left the store as that merge made it).
	Status       string
	Watermark    time.Time
	Days         []string // days republished
	SpeedObjects int
	BatchObjects int
	HourRows     int
	DayRows      int
	UserRows     int // users view rows, both granularities
}

const dayLayout = "2006-01-02"

// ErrNoBatchView is returned (wrapped, with where it was expected) by
// Merger.Run when no batch manifest has been published: there is no
// watermark to merge at.
var ErrNoBatchView = errors.New("no published batch view")

// ErrNoSpeedObjects is returned (wrapped) by Merger.Run when RequireSpeed
// is set and the speed location holds no speed object at all.
var ErrNoSpeedObjects = errors.New("no speed objects")

// noBatchView is the error for a batch location with no published manifest.
func (m *Merger) noBatchView(ctx context.Context) error {
	return fmt.Errorf("%w: %s", ErrNoBatchView,
		storage.WhereExpected(ctx, m.Batch, BatchManifestKey, "the manifest `lambdastack batch` publishes"))
}

// checkSpeed fails when the speed location has no speed/ object at all:
// most often a wrong location, which would merge the batch view alone
// without a word.
func (m *Merger) checkSpeed(ctx context.Context) error {
	objs, err := m.Speed.List(ctx, glue.SpeedView.Prefix)
	if err != nil {
		return fmt.Errorf("listing the speed view: %w", err)
	}
	if len(objs) > 0 {
		return nil
	}
	return fmt.Errorf("%w (%s): %s", ErrNoSpeedObjects, m.RequireSpeed,
		storage.WhereExpected(ctx, m.Speed, glue.SpeedView.Prefix, "the objects `lambdastack speed` writes"))
}

// Run publishes merged = batch rows for windows before the batch watermark
// ∪ speed rows for windows from it on. Only the days that can have changed
// are rewritten: days whose batch objects changed and days from the
// watermark's day (old or new) on. Objects are staged and the manifest
// committed conditionally, as in Builder.Run: a merge that loses the race
// returns StatusLostRace and no error.
func (m *Merger) Run(ctx context.Context) (*MergeSummary, error) {
	noBatch := false
	if _, err := storage.ReadManifest(ctx, m.Batch, BatchManifestKey); errors.Is(err, storage.ErrNotExist) {
		if !m.SpeedBeforeBatch {
			return nil, m.noBatchView(ctx)
		}
		noBatch = true
	}
	runID := newRunID("merge-", m.Now())
	commit, cur, err := storage.BeginCommit(ctx, m.Out, MergedManifestKey, runID, m.Now)
	if errors.Is(err, storage.ErrLostRace) {
		return &MergeSummary{Status: StatusLostRace}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("starting the merge commit: %w", err)
	}
	published := false
	defer func() {
		if !published {
			_ = commit.Abort(context.WithoutCancel(ctx))
		}
	}()
	bm, err := readBatchMeta(ctx, m.Batch)
	if err != nil {
		return nil, err
	}
	if m.RequireSpeed != "" {
		if err := m.checkSpeed(ctx); err != nil {
			return nil, err
		}
	}
	if bm.Watermark.IsZero() && !noBatch {
		return nil, fmt.Errorf("the batch manifest %s has no watermark: rerun `lambdastack batch`", storage.Join(m.Batch.Location(), BatchManifestKey))
	}
	prev, err := mergedMetaOf(cur)
	if err != nil {
		return nil, err
	}
	wm := bm.Watermark.UTC()
	sum := &MergeSummary{Status: StatusOK, Watermark: wm}

	speed, nspeed, err := m.readSpeed(ctx, wm)
	if err != nil {
		return nil, err
	}
	if noBatch && nspeed == 0 {
		return nil, m.noBatchView(ctx) // nothing to serve yet: publish nothing
	}
	sum.SpeedObjects = nspeed
	speedDays := map[string]agg.Table{}
	for k, a := range speed {
		dt := k.WindowStart.Format(dayLayout)
		if speedDays[dt] == nil {
			speedDays[dt] = agg.Table{}
		}
		a.Normalize()
		speedDays[dt][k] = a
	}

	// Days to rewrite.
	floor := wm
	if !prev.Watermark.IsZero() && prev.Watermark.Before(floor) {
		floor = prev.Watermark
	}
	floorDay := floor.Truncate(24 * time.Hour).Format(dayLayout)
	if prev.Days == nil {
		floorDay = "" // first merge: everything
	}
	rewrite := map[string]bool{}
	for dt, rec := range bm.Days {
		if prev.Batch[dt] != rec.Digest || dt >= floorDay {
			rewrite[dt] = true
		}
	}
	for dt := range speedDays {
		rewrite[dt] = true
	}
	for dt := range prev.Days {
		if dt >= floorDay {
			rewrite[dt] = true
		}
	}
	usersBackfill(prev, rewrite)

	meta := MergedMeta{Watermark: wm, Batch: map[string]string{}, Days: map[string]string{}, Users: map[string]string{}}
	maps.Copy(meta.Days, prev.Days)
	maps.Copy(meta.Batch, prev.Batch)
	maps.Copy(meta.Users, prev.Users)
	// Days are independent: they are merged by parallel workers (their
	// store reads and writes overlap, which is most of the time on S3) and
	// recorded in day order.
	days := slices.Sorted(maps.Keys(rewrite))
	merged := make([]*mergedDay, len(days))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(mergeWorkers)
	for i, dt := range days {
		g.Go(func() error {
			md, err := m.mergeDay(gctx, commit, bm, wm, dt, speedDays[dt])
			merged[i] = md
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, md := range merged {
		meta.Days[md.dt] = md.digest
		meta.Users[md.dt] = md.userDigest
		sum.UserRows += md.userRows
		if rec, ok := bm.Days[md.dt]; ok {
			meta.Batch[md.dt] = rec.Digest
		} else {
			delete(meta.Batch, md.dt)
		}
		sum.BatchObjects += md.batchObjects
		sum.Days = append(sum.Days, md.dt)
		sum.HourRows += md.hourRows
		sum.DayRows += md.dayRows
	}

	man := storage.Manifest{Run: runID, Published: m.Now().UTC()}
	for _, dt := range slices.Sorted(maps.Keys(meta.Days)) {
		for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
			man.Objects = append(man.Objects, storage.ObjectInfo{Key: PartitionKey(glue.MergedView, g, dt)})
		}
		man.Objects = append(man.Objects, usersObjects(dt)...)
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encoding merged manifest meta: %w", err)
	}
	man.Meta = raw
	err = commit.Publish(ctx, man)
	published = true // past the claim the staged objects belong to it: no Abort
	if errors.Is(err, storage.ErrLostRace) {
		return &MergeSummary{Status: StatusLostRace}, nil
	}
	if err != nil {
		return nil, err
	}
	return sum, nil
}

// mergeWorkers is how many days a merge builds at once.
const mergeWorkers = 8

// mergedDay is what merging one day published.
type mergedDay struct {
	dt, digest, userDigest                    string
	userRows, hourRows, dayRows, batchObjects int
}

// mergeDay publishes the merged and users objects of day dt: batch rows
// before the watermark wm, speed rows (sp, the day's speed table) from it on.
func (m *Merger) mergeDay(ctx context.Context, commit *storage.Commit, bm BatchMeta, wm time.Time, dt string, sp agg.Table) (*mergedDay, error) {
	md := &mergedDay{dt: dt}
	var err error
	day, _ := time.Parse(dayLayout, dt)
	var batchHours, batchDays []views.Row
	if _, ok := bm.Days[dt]; ok && day.Before(wm) {
		batchHours, err = readRows(ctx, m.Batch, PartitionKey(glue.BatchView, agg.Hour, dt))
		if err != nil {
			return nil, fmt.Errorf("reading batch hours of %s: %w", dt, err)
		}
		md.batchObjects++
		if !day.Add(24 * time.Hour).After(wm) {
			batchDays, err = readRows(ctx, m.Batch, PartitionKey(glue.BatchView, agg.Day, dt))
			if err != nil {
				return nil, fmt.Errorf("reading batch days of %s: %w", dt, err)
			}
			md.batchObjects++
		}
	}
	// Hours: batch before the watermark, speed from it on.
	var hours []views.Row
	var batchBefore []views.Row
	for _, r := range batchHours {
		if r.WindowStart.Before(wm) {
			r.Layer, r.Watermark = views.LayerBatch, wm
			hours = append(hours, r)
			batchBefore = append(batchBefore, r)
		}
	}
	speedRows, err := views.Rows(sp)
	if err != nil {
		return nil, err
	}
	for _, r := range speedRows {
		r.Fingerprints, r.Values = nil, nil
		r.Layer, r.Watermark = views.LayerSpeed, wm
		hours = append(hours, r)
	}
	sortRows(hours)

	// Days: a day wholly before the watermark is the batch day row; the
	// day holding the watermark (or after it) combines batch hours
	// before it with speed hours from it on: disjoint windows, so
	// events and sums add and the sketches merge.
	var dayRows []views.Row
	if day.Add(24 * time.Hour).After(wm) {
		bt, err := tableOf(batchBefore)
		if err != nil {
			return nil, err
		}
		combined, err := bt.Rollup(agg.Day)
		if err != nil {
			return nil, err
		}
		sd, err := sp.Rollup(agg.Day)
		if err != nil {
			return nil, err
		}
		for _, k := range sd.Keys() {
			sd[k].Seen = nil // counted exactly already; the day row needs no fingerprints
		}
		if err := combined.Merge(sd); err != nil {
			return nil, err
		}
		dayRows, err = views.Rows(combined)
		if err != nil {
			return nil, err
		}
		for i := range dayRows {
			dayRows[i].Layer, dayRows[i].Watermark = views.LayerBatch, wm
			if _, ok := sd[dayRows[i].Key()]; ok {
				dayRows[i].Layer = views.LayerSpeed
			}
		}
	} else {
		for _, r := range batchDays {
			r.Layer, r.Watermark = views.LayerBatch, wm
			dayRows = append(dayRows, r)
		}
	}

	h := xxh3.New()
	for _, w := range []struct {
		g    agg.Granularity
		rows []views.Row
	}{{agg.Hour, hours}, {agg.Day, dayRows}} {
		key := PartitionKey(glue.MergedView, w.g, dt)
		data, err := views.Encode(glue.MergedView, w.rows)
		if err != nil {
			return nil, fmt.Errorf("encoding merged view %s: %w", key, err)
		}
		if err := commit.Put(ctx, key, data); err != nil {
			return nil, fmt.Errorf("writing merged view %s: %w", storage.Join(m.Out.Location(), key), err)
		}
		h.Write(data)
	}
	md.digest = contentDigest(h)
	if md.userDigest, md.userRows, err = m.publishUsers(ctx, commit, dt, hours, dayRows); err != nil {
		return nil, err
	}
	md.hourRows, md.dayRows = len(hours), len(dayRows)
	return md, nil
}

// readSpeed reads the speed objects of hours from wm on (listing only the
// dt= partitions from wm's day to tomorrow) and merges them by key,
// deduplicating by fingerprint. Rows of windows before wm are dropped.
func (m *Merger) readSpeed(ctx context.Context, wm time.Time) (agg.Table, int, error) {
	var prefixes []string
	if wm.IsZero() {
		prefixes = []string{glue.SpeedView.Prefix}
	} else {
		end := m.Now().UTC().Add(48 * time.Hour).Truncate(24 * time.Hour)
		for d := wm.Truncate(24 * time.Hour); d.Before(end); d = d.Add(24 * time.Hour) {
			prefixes = append(prefixes, glue.SpeedView.Prefix+"dt="+d.Format(dayLayout)+"/")
		}
	}
	out := agg.Table{}
	n := 0
	for _, p := range prefixes {
		infos, err := m.Speed.List(ctx, p)
		if err != nil {
			return nil, 0, fmt.Errorf("listing speed view %s: %w", storage.Join(m.Speed.Location(), p), err)
		}
		for _, o := range infos {
			if h, ok := partitionHour(o.Key); ok && h.Before(wm) {
				continue // pruned by path: the batch covers it
			}
			rows, err := readRows(ctx, m.Speed, o.Key)
			if err != nil {
				return nil, 0, fmt.Errorf("reading speed view: %w", err)
			}
			n++
			for i := range rows {
				if rows[i].WindowStart.Before(wm) {
					continue
				}
				a, err := rows[i].Aggregate()
				if err != nil {
					return nil, 0, fmt.Errorf("reading speed view %s: %w", o.Key, err)
				}
				if len(rows[i].Fingerprints) == 0 && rows[i].Events > 0 {
					a.Seen = nil
				}
				k := rows[i].Key()
				if prev, ok := out[k]; ok {
					if err := prev.Merge(a); err != nil {
						return nil, 0, fmt.Errorf("merging speed rows of %s: %w", o.Key, err)
					}
					continue
				}
				out[k] = a
			}
		}
	}
	return out, n, nil
}

// mergedMetaOf decodes the meta of the merged manifest (zero man: none yet).
func mergedMetaOf(man storage.Manifest) (MergedMeta, error) {
	var meta MergedMeta
	if man.Run == "" && len(man.Meta) == 0 {
		return meta, nil
	}
	if err := json.Unmarshal(man.Meta, &meta); err != nil {
		return meta, fmt.Errorf("decoding the merged manifest meta: %w", err)
	}
	return meta, nil
}
