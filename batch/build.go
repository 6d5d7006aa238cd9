package batch

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/agg"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// DefaultLateness is how long after an hour closes the batch waits for
// stragglers before it takes the hour.
const DefaultLateness = 15 * time.Minute

// BatchManifestKey is where the batch view's manifest lives in the views
// location; the merge reads the watermark from it.
var BatchManifestKey = glue.BatchView.Prefix + "_manifest.json"

const hourKeyLayout = "2006-01-02T15"

// BatchMeta is what the batch manifest remembers about the view.
type BatchMeta struct {
	// Watermark: the view covers every event with event_time before it.
	Watermark time.Time `json:"watermark"`
	Lateness  string    `json:"lateness"`
	// Hours records, per hour built ("2006-01-02T15"), the raw input it
	// was built from, so the next run sees late data.
	Hours map[string]HourRecord `json:"hours"`
	// Days records, per dt, a digest of its published objects, so the
	// merge can tell which days changed.
	Days map[string]DayRecord `json:"days"`
}

// HourRecord is one built hour.
type HourRecord struct {
	Objects int              `json:"objects"`
	Digest  string           `json:"digest"`
	Events  int64            `json:"events"`
	Bad     map[string]int64 `json:"bad,omitempty"`
}

// DayRecord is one published day.
type DayRecord struct {
	Digest string `json:"digest"`
	Rows   int    `json:"rows"`
}

// PartitionKey is the key of the one object of a view partition.
func PartitionKey(t glue.Table, g agg.Granularity, dt string) string {
	return t.Prefix + "granularity=" + string(g) + "/dt=" + dt + "/part-00000.parquet"
}

// Builder builds and maintains the batch view.
type Builder struct {
	Raw, Out storage.Store
	Now      func() time.Time
	Lateness time.Duration
	// From and To bound the hours considered (zero: unbounded). Hours
	// outside keep what the view has.
	From, To time.Time
	Workers  int
	Progress *Progress
}

// Summary says what a run did.
type Summary struct {
	Run string
	// Status is StatusOK when the run published, StatusSkipped when there
	// was nothing new to publish, StatusLostRace when another run
	// committed first (this run then left the store as that run made it).
	Status     string
	Watermark  time.Time
	Hours      []time.Time // hours rebuilt
	Days       []string    // days republished
	Objects    int         // raw objects read
	Bytes      int64
	Rows       int64
	Valid      int64
	Duplicates int64
	Bad        map[string]int64
	Skipped    []string // raw keys outside the dt=/hour= layout
	Elapsed    time.Duration
}

// Run statuses (Summary.Status, MergeSummary.Status).
const (
	StatusOK       = "ok"
	StatusSkipped  = "skipped"
	StatusLostRace = "lost_race"
)

// newRunID names a run: its start time and a random part, so runs started
// in the same second stage their objects apart.
func newRunID(prefix string, start time.Time) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return prefix + start.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(r[:])
}

// Run brings the batch view up to date: it builds every closed hour whose
// raw input is new or changed since the published manifest and republishes
// the days holding them, manifest last. The objects are staged and the
// manifest committed conditionally (storage.Commit): when another run
// commits first, Run returns a Summary with StatusLostRace and no error.
func (b *Builder) Run(ctx context.Context) (*Summary, error) {
	start := b.Now()
	runID := newRunID("", start)
	lateness := b.Lateness
	if lateness < 0 {
		return nil, fmt.Errorf("lateness %s is negative", lateness)
	}
	wm := start.UTC().Add(-lateness).Truncate(time.Hour)
	if !b.To.IsZero() && b.To.UTC().Truncate(time.Hour).Before(wm) {
		wm = b.To.UTC().Truncate(time.Hour)
	}
	from := b.From.UTC().Truncate(time.Hour)

	commit, cur, err := storage.BeginCommit(ctx, b.Out, BatchManifestKey, runID, b.Now)
	if errors.Is(err, storage.ErrLostRace) {
		return &Summary{Run: runID, Status: StatusLostRace, Elapsed: b.Now().Sub(start)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("starting the batch commit: %w", err)
	}
	published := false
	defer func() {
		if !published {
			_ = commit.Abort(context.WithoutCancel(ctx))
		}
	}()
	old, err := batchMetaOf(cur, b.Out)
	if err != nil {
		return nil, err
	}
	objs, skipped, err := ListRaw(ctx, b.Raw, from, wm)
	if err != nil {
		return nil, err
	}
	byHour := map[string][]RawObject{}
	for _, o := range objs {
		k := o.Hour.Format(hourKeyLayout)
		byHour[k] = append(byHour[k], o)
	}
	rebuild := map[string]bool{}
	for k, os := range byHour {
		if rec, ok := old.Hours[k]; !ok || rec.Digest != inputDigest(os) {
			rebuild[k] = true
		}
	}
	for k := range old.Hours {
		h, _ := time.Parse(hourKeyLayout, k)
		if _, ok := byHour[k]; !ok && !h.Before(from) && h.Before(wm) {
			rebuild[k] = true // its input is gone
		}
	}

	sum := &Summary{Run: runID, Status: StatusOK, Bad: map[string]int64{}, Skipped: skipped}
	var total, nobj int64
	byDay := map[string][]string{}
	for k := range rebuild {
		for _, o := range byHour[k] {
			total += o.Size
			nobj++
		}
		byDay[k[:10]] = append(byDay[k[:10]], k)
	}
	if b.Progress != nil {
		b.Progress.begin(nobj, total)
	}
	sum.Objects = int(nobj)

	meta := BatchMeta{Watermark: wm, Lateness: lateness.String(), Hours: map[string]HourRecord{}, Days: map[string]DayRecord{}}
	if old.Watermark.After(wm) {
		meta.Watermark = old.Watermark
	}
	maps.Copy(meta.Days, old.Days)
	for k, rec := range old.Hours {
		if !rebuild[k] {
			meta.Hours[k] = rec
		}
	}
	// Day by day, hour by hour: memory holds one hour's events at a time,
	// and a day's objects are written once its hours are built.
	for _, dt := range slices.Sorted(maps.Keys(byDay)) {
		built := agg.Table{}
		for _, k := range slices.Sorted(slices.Values(byDay[dt])) {
			var sources []Source
			for _, o := range byHour[k] {
				key := o.Key
				sources = append(sources, Source{Name: storage.Join(b.Raw.Location(), key), Size: o.Size, Hour: o.Hour,
					Open: func(ctx context.Context) (io.ReadCloser, error) { return b.Raw.Get(ctx, key) }})
			}
			res, err := Aggregate(ctx, sources, Options{Workers: b.Workers, Progress: b.Progress})
			if err != nil {
				return nil, fmt.Errorf("building batch hour %s: %w", k, err)
			}
			sum.Bytes += res.Bytes
			sum.Rows += res.Rows
			sum.Valid += res.Valid
			sum.Duplicates += res.Duplicates
			for r, n := range res.Bad {
				sum.Bad[r] += n
			}
			var events int64
			for key, a := range res.Hours {
				built[key] = a
				events += a.Events
			}
			if os := byHour[k]; len(os) > 0 {
				rec := HourRecord{Objects: len(os), Digest: inputDigest(os), Events: events}
				if len(res.Bad) > 0 {
					rec.Bad = res.Bad
				}
				meta.Hours[k] = rec
			}
			h, _ := time.Parse(hourKeyLayout, k)
			sum.Hours = append(sum.Hours, h)
		}
		rec, err := b.publishDay(ctx, commit, dt, old, rebuild, built)
		if err != nil {
			return nil, err
		}
		meta.Days[dt] = rec
		sum.Days = append(sum.Days, dt)
	}

	if len(rebuild) == 0 && meta.Watermark.Equal(old.Watermark) && old.Lateness != "" {
		sum.Watermark = meta.Watermark
		sum.Status = StatusSkipped
		sum.Elapsed = b.Now().Sub(start)
		return sum, nil // nothing new: keep the published manifest
	}
	m := storage.Manifest{Run: sum.Run, Published: b.Now().UTC()}
	for _, dt := range slices.Sorted(maps.Keys(meta.Days)) {
		for _, g := range []agg.Granularity{agg.Hour, agg.Day} {
			m.Objects = append(m.Objects, storage.ObjectInfo{Key: PartitionKey(glue.BatchView, g, dt)})
		}
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encoding batch manifest meta: %w", err)
	}
	m.Meta = raw
	err = commit.Publish(ctx, m)
	published = true // past the claim the staged objects belong to it: no Abort
	if errors.Is(err, storage.ErrLostRace) {
		return &Summary{Run: runID, Status: StatusLostRace, Elapsed: b.Now().Sub(start)}, nil
	}
	if err != nil {
		return nil, err
	}
	sum.Watermark = meta.Watermark
	sum.Elapsed = b.Now().Sub(start)
	return sum, nil
}

func readBatchMeta(ctx context.Context, s storage.Store) (BatchMeta, error) {
	m, err := storage.ReadManifest(ctx, s, BatchManifestKey)
	if errors.Is(err, storage.ErrNotExist) {
		return batchMetaOf(storage.Manifest{}, s)
	}
	if err != nil {
		return BatchMeta{}, fmt.Errorf("reading the batch manifest: %w", err)
	}
	return batchMetaOf(m, s)
}

// batchMetaOf decodes the meta of the batch manifest m read from s (zero
// m: no manifest yet).
func batchMetaOf(m storage.Manifest, s storage.Store) (BatchMeta, error) {
	meta := BatchMeta{Hours: map[string]HourRecord{}, Days: map[string]DayRecord{}}
	if len(m.Meta) > 0 {
		if err := json.Unmarshal(m.Meta, &meta); err != nil {
			return meta, fmt.Errorf("decoding the batch manifest meta %s: %w", storage.Join(s.Location(), BatchManifestKey), err)
		}
	}
	if meta.Hours == nil {
		meta.Hours = map[string]HourRecord{}
	}
	if meta.Days == nil {
		meta.Days = map[string]DayRecord{}
	}
	return meta, nil
}

// readRows decodes the view object at key; a missing object has no rows.
func readRows(ctx context.Context, s storage.Store, key string) ([]views.Row, error) {
	data, err := storage.ReadAll(ctx, s, key)
	if errors.Is(err, storage.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rows, err := views.Decode(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("decoding %s: %w", storage.Join(s.Location(), key), err)
	}
	return rows, nil
}

// publishDay writes the hour and day objects of dt: the rebuilt hours from
// built plus the kept hours read back from the published object.
func (b *Builder) publishDay(ctx context.Context, commit *storage.Commit, dt string, old BatchMeta, rebuild map[string]bool, built agg.Table) (DayRecord, error) {
	hourKey := PartitionKey(glue.BatchView, agg.Hour, dt)
	var rows []views.Row
	if _, ok := old.Days[dt]; ok {
		prev, err := readRows(ctx, b.Out, hourKey)
		if err != nil {
			return DayRecord{}, fmt.Errorf("reading the published batch hours of %s: %w", dt, err)
		}
		for _, r := range prev {
			k := r.WindowStart.UTC().Format(hourKeyLayout)
			// Keep only hours the manifest vouches for: an object
			// rewritten by a run that crashed before publishing may
			// hold more.
			if _, ok := old.Hours[k]; ok && !rebuild[k] {
				rows = append(rows, r)
			}
		}
	}
	fresh := agg.Table{}
	for k, a := range built {
		if k.WindowStart.Format("2006-01-02") == dt {
			fresh[k] = a
		}
	}
	newRows, err := Rows(fresh, b.Workers)
	if err != nil {
		return DayRecord{}, err
	}
	rows = append(rows, newRows...)
	sortRows(rows)
	dayRows, err := rollupRows(rows)
	if err != nil {
		return DayRecord{}, fmt.Errorf("rolling up batch day %s: %w", dt, err)
	}
	h := sha256.New()
	for _, w := range []struct {
		key  string
		rows []views.Row
	}{{hourKey, rows}, {PartitionKey(glue.BatchView, agg.Day, dt), dayRows}} {
		data, err := views.Encode(glue.BatchView, w.rows)
		if err != nil {
			return DayRecord{}, fmt.Errorf("encoding batch view %s: %w", w.key, err)
		}
		if err := commit.Put(ctx, w.key, data); err != nil {
			return DayRecord{}, fmt.Errorf("writing batch view %s: %w", storage.Join(b.Out.Location(), w.key), err)
		}
		h.Write(data)
	}
	return DayRecord{Digest: hex.EncodeToString(h.Sum(nil))[:32], Rows: len(rows)}, nil
}

func sortRows(rows []views.Row) {
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key().Less(rows[j].Key()) })
}

// rollupRows rolls hour rows up to day rows through their sketches, so the
// day's users come from merged hour sketches.
func rollupRows(rows []views.Row) ([]views.Row, error) {
	t, err := tableOf(rows)
	if err != nil {
		return nil, err
	}
	days, err := t.Rollup(agg.Day)
	if err != nil {
		return nil, err
	}
	return views.Rows(days)
}

func tableOf(rows []views.Row) (agg.Table, error) {
	t := agg.Table{}
	for i := range rows {
		a, err := rows[i].Aggregate()
		if err != nil {
			return nil, err
		}
		if len(rows[i].Fingerprints) == 0 && rows[i].Events > 0 {
			a.Seen = nil // a row without its fingerprints counts as is
		}
		k := rows[i].Key()
		if prev, ok := t[k]; ok {
			if err := prev.Merge(a); err != nil {
				return nil, err
			}
			continue
		}
		t[k] = a
	}
	return t, nil
}
