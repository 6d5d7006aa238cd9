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
	// Engine builds the hours; nil is the Go engine over Raw.
	Engine Engine
	// Rebuild builds every hour in range from raw, whatever the manifest
	// says (after a change of the view's format, such as its sketches).
	Rebuild bool
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
	// Unpublished says why no manifest was published when none was and
	// none existed before: no hour of the raw events has closed yet.
	Unpublished string
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

// Engine builds the batch rows of one hour from the raw objects stored
// under it: one row per (event_type, source), events deduplicated by
// event_id, users_sketch in the view's format. The Go engine (GoEngine) is
// the default; the sql engine (package batchsql) and the rows an Athena
// UNLOAD staged (StagedEngine) are the others. Planning, the commit, the
// watermark and late-data rebuilds are Builder's, whatever the engine.
type Engine interface {
	BuildHour(ctx context.Context, hour time.Time, objs []RawObject) (*HourResult, error)
}

// HourResult is one built hour.
type HourResult struct {
	Rows []views.Row
	// Records read, valid, duplicates among the valid, rejected by
	// reason, and raw bytes read, as far as the engine tells them.
	Records, Valid, Duplicates int64
	Bad                        map[string]int64
	Bytes                      int64
}

// GoEngine is the in-process engine (Aggregate).
type GoEngine struct {
	Raw      storage.Store
	Workers  int
	Progress *Progress
}

// BuildHour aggregates the hour's objects.
func (g *GoEngine) BuildHour(ctx context.Context, hour time.Time, objs []RawObject) (*HourResult, error) {
	res, err := Aggregate(ctx, g.sources(objs), g.options())
	if err != nil {
		return nil, err
	}
	return g.hourResult(res)
}

// buildHours builds hours in order, handing each result to each: one
// reader opens and decompresses the hours' objects one after another,
// ahead of the decoding (readAhead), so the next hour's input is read while
// an hour is aggregated, turned into rows and handed on.
func (g *GoEngine) buildHours(ctx context.Context, hours []PlanHour, each func(i int, res *HourResult) error) error {
	srcs := make([][]Source, len(hours))
	for i, ph := range hours {
		srcs[i] = g.sources(ph.Objects)
	}
	ra := startReadAhead(ctx, srcs)
	defer ra.stop()
	for i, ph := range hours {
		res, err := aggregate(ctx, srcs[i], ra, i, g.options())
		if err != nil {
			return hourError(ph, err)
		}
		hr, err := g.hourResult(res)
		if err != nil {
			return hourError(ph, err)
		}
		if err := each(i, hr); err != nil {
			return err
		}
	}
	return nil
}

func (g *GoEngine) sources(objs []RawObject) []Source {
	var sources []Source
	for _, o := range objs {
		key := o.Key
		sources = append(sources, Source{Name: storage.Join(g.Raw.Location(), key), Size: o.Size, Hour: o.Hour,
			Open: func(ctx context.Context) (io.ReadCloser, error) { return g.Raw.Get(ctx, key) }})
	}
	return sources
}

func (g *GoEngine) options() Options { return Options{Workers: g.Workers, Progress: g.Progress} }

func (g *GoEngine) hourResult(res *Result) (*HourResult, error) {
	rows, err := Rows(res.Hours, g.Workers)
	if err != nil {
		return nil, err
	}
	return &HourResult{Rows: rows, Records: res.Rows, Valid: res.Valid, Duplicates: res.Duplicates, Bad: res.Bad, Bytes: res.Bytes}, nil
}

// hoursEngine is an engine that builds a run's hours in one call, in
// order, handing each hour's result to each before it builds the next and
// stopping at the first error (each's unchanged, the engine's through
// hourError). The Go engine is one: it reads the next hour's input while
// an hour finishes. Builder uses BuildHour, hour by hour, for the others.
type hoursEngine interface {
	buildHours(ctx context.Context, hours []PlanHour, each func(i int, res *HourResult) error) error
}

// buildHours builds hours with engine, in order, as hoursEngine does.
func buildHours(ctx context.Context, engine Engine, hours []PlanHour, each func(i int, res *HourResult) error) error {
	if e, ok := engine.(hoursEngine); ok {
		return e.buildHours(ctx, hours, each)
	}
	for i, ph := range hours {
		res, err := engine.BuildHour(ctx, ph.Hour.UTC(), ph.Objects)
		if err != nil {
			return hourError(ph, err)
		}
		if err := each(i, res); err != nil {
			return err
		}
	}
	return nil
}

// hourError says which hour an engine was building when it failed.
func hourError(ph PlanHour, err error) error {
	return fmt.Errorf("building batch hour %s: %w", ph.Hour.UTC().Format(hourKeyLayout), err)
}

// Plan is what a run will build: the hours whose raw input is new or
// changed since the committed manifest, with that input as listed when
// planned, the watermark, and the manifest version the commit is
// conditional on. The athena engine keeps it between its plan and publish
// steps (the batch Lambda's plan and publish actions).
type Plan struct {
	RunID     string     `json:"runId"`
	Watermark time.Time  `json:"watermark"`
	Lateness  string     `json:"lateness"`
	Version   string     `json:"version"` // of the batch manifest read when planning; "" when there was none
	Hours     []PlanHour `json:"hours"`
	// Skipped lists raw keys outside the dt=/hour= layout.
	Skipped []string `json:"skipped,omitempty"`
}

// PlanHour is one hour to build and the raw objects it had when planned.
type PlanHour struct {
	Hour    time.Time   `json:"hour"`
	Objects []RawObject `json:"objects"`
}

// engine is the configured engine, the Go engine by default.
func (b *Builder) engine() Engine {
	if b.Engine != nil {
		return b.Engine
	}
	return &GoEngine{Raw: b.Raw, Workers: b.Workers, Progress: b.Progress}
}

// ErrNoRawEvents is returned (wrapped, with where they were expected) by
// Builder.Run when the raw location holds no event objects at all.
var ErrNoRawEvents = errors.New("no raw events")

// Run brings the batch view up to date: it builds every closed hour whose
// raw input is new or changed since the published manifest and republishes
// the days holding them, manifest last. The objects are staged and the
// manifest committed conditionally (storage.Commit): when another run
// commits first, Run returns a Summary with StatusLostRace and no error.
func (b *Builder) Run(ctx context.Context) (*Summary, error) {
	start := b.Now()
	runID := newRunID("", start)
	commit, cur, err := storage.BeginCommit(ctx, b.Out, BatchManifestKey, runID, b.Now)
	if errors.Is(err, storage.ErrLostRace) {
		return &Summary{Run: runID, Status: StatusLostRace, Elapsed: b.Now().Sub(start)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("starting the batch commit: %w", err)
	}
	plan, old, err := b.plan(ctx, runID, start, commit, cur)
	if err != nil {
		_ = commit.Abort(context.WithoutCancel(ctx))
		return nil, err
	}
	return b.execute(ctx, start, commit, plan, old, b.engine())
}

// Plan lists what a run would build, without building it.
func (b *Builder) Plan(ctx context.Context) (*Plan, error) {
	start := b.Now()
	runID := newRunID("", start)
	commit, cur, err := storage.BeginCommit(ctx, b.Out, BatchManifestKey, runID, b.Now)
	if err != nil {
		return nil, fmt.Errorf("planning the batch run: %w", err)
	}
	plan, _, err := b.plan(ctx, runID, start, commit, cur)
	return plan, err
}

// Publish builds plan's hours with engine (for the athena engine the rows
// its UNLOADs staged) and commits them. When the batch manifest is no
// longer the version plan was made on, another run committed first: the
// result is StatusLostRace.
func (b *Builder) Publish(ctx context.Context, plan *Plan, engine Engine) (*Summary, error) {
	start := b.Now()
	commit, cur, err := storage.BeginCommit(ctx, b.Out, BatchManifestKey, plan.RunID, b.Now)
	if errors.Is(err, storage.ErrLostRace) || err == nil && commit.Version() != plan.Version {
		return &Summary{Run: plan.RunID, Status: StatusLostRace, Elapsed: b.Now().Sub(start)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("starting the batch commit of run %s: %w", plan.RunID, err)
	}
	old, err := batchMetaOf(cur, b.Out)
	if err != nil {
		return nil, err
	}
	return b.execute(ctx, start, commit, plan, old, engine)
}

// plan works out, from the committed manifest cur, which closed hours
// need building.
func (b *Builder) plan(ctx context.Context, runID string, start time.Time, commit *storage.Commit, cur storage.Manifest) (*Plan, BatchMeta, error) {
	lateness := b.Lateness
	if lateness < 0 {
		return nil, BatchMeta{}, fmt.Errorf("lateness %s is negative", lateness)
	}
	wm := start.UTC().Add(-lateness).Truncate(time.Hour)
	if !b.To.IsZero() && b.To.UTC().Truncate(time.Hour).Before(wm) {
		wm = b.To.UTC().Truncate(time.Hour)
	}
	from := b.From.UTC().Truncate(time.Hour)
	old, err := batchMetaOf(cur, b.Out)
	if err != nil {
		return nil, old, err
	}
	objs, skipped, err := ListRaw(ctx, b.Raw, from, wm)
	if err != nil {
		return nil, old, err
	}
	if len(objs) == 0 && len(old.Hours) == 0 {
		if err := b.checkRawEvents(ctx); err != nil {
			return nil, old, err
		}
	}
	byHour := map[string][]RawObject{}
	for _, o := range objs {
		k := o.Hour.Format(hourKeyLayout)
		byHour[k] = append(byHour[k], o)
	}
	rebuild := map[string]bool{}
	for k, os := range byHour {
		if rec, ok := old.Hours[k]; b.Rebuild || !ok || rec.Digest != inputDigest(os) {
			rebuild[k] = true
		}
	}
	for k := range old.Hours {
		h, _ := time.Parse(hourKeyLayout, k)
		if _, ok := byHour[k]; !ok && !h.Before(from) && h.Before(wm) {
			rebuild[k] = true // its input is gone
		}
	}
	plan := &Plan{RunID: runID, Watermark: wm, Lateness: lateness.String(), Version: commit.Version(), Skipped: skipped}
	for _, k := range slices.Sorted(maps.Keys(rebuild)) {
		h, _ := time.Parse(hourKeyLayout, k)
		plan.Hours = append(plan.Hours, PlanHour{Hour: h, Objects: byHour[k]})
	}
	return plan, old, nil
}

// execute builds the plan's hours day by day with engine and commits them.
func (b *Builder) execute(ctx context.Context, start time.Time, commit *storage.Commit, plan *Plan, old BatchMeta, engine Engine) (*Summary, error) {
	published := false
	defer func() {
		if !published {
			_ = commit.Abort(context.WithoutCancel(ctx))
		}
	}()
	sum := &Summary{Run: plan.RunID, Status: StatusOK, Bad: map[string]int64{}, Skipped: plan.Skipped}
	var total, nobj int64
	byDay := map[string][]PlanHour{}
	rebuild := map[string]bool{}
	for _, ph := range plan.Hours {
		k := ph.Hour.UTC().Format(hourKeyLayout)
		rebuild[k] = true
		for _, o := range ph.Objects {
			total += o.Size
			nobj++
		}
		byDay[k[:10]] = append(byDay[k[:10]], ph)
	}
	if b.Progress != nil {
		b.Progress.begin(nobj, total)
	}
	sum.Objects = int(nobj)

	meta := BatchMeta{Watermark: plan.Watermark, Lateness: plan.Lateness, Hours: map[string]HourRecord{}, Days: map[string]DayRecord{}}
	if old.Watermark.After(plan.Watermark) {
		meta.Watermark = old.Watermark
	}
	maps.Copy(meta.Days, old.Days)
	for k, rec := range old.Hours {
		if !rebuild[k] {
			meta.Hours[k] = rec
		}
	}
	// Day by day, hour by hour: memory holds one hour's events at a time
	// (and what the engine reads ahead of the next), and a day's objects
	// are written once its hours are built.
	var hours []PlanHour
	for _, dt := range slices.Sorted(maps.Keys(byDay)) {
		hours = append(hours, byDay[dt]...)
	}
	var built []views.Row
	err := buildHours(ctx, engine, hours, func(i int, res *HourResult) error {
		ph := hours[i]
		k := ph.Hour.UTC().Format(hourKeyLayout)
		sum.Bytes += res.Bytes
		sum.Rows += res.Records
		sum.Valid += res.Valid
		sum.Duplicates += res.Duplicates
		for r, n := range res.Bad {
			sum.Bad[r] += n
		}
		var events int64
		for _, r := range res.Rows {
			if r.WindowStart.UTC() != ph.Hour.UTC() {
				return fmt.Errorf("building batch hour %s: the engine returned a row of window %s", k, r.WindowStart.UTC().Format(time.RFC3339))
			}
			events += r.Events
		}
		built = append(built, res.Rows...)
		if os := ph.Objects; len(os) > 0 {
			rec := HourRecord{Objects: len(os), Digest: inputDigest(os), Events: events}
			if len(res.Bad) > 0 {
				rec.Bad = res.Bad
			}
			meta.Hours[k] = rec
		}
		sum.Hours = append(sum.Hours, ph.Hour.UTC())
		dt := k[:10]
		if i+1 < len(hours) && hours[i+1].Hour.UTC().Format(hourKeyLayout)[:10] == dt {
			return nil // the day has more hours
		}
		rec, err := b.publishDay(ctx, commit, dt, old, rebuild, built)
		if err != nil {
			return err
		}
		built = nil
		meta.Days[dt] = rec
		sum.Days = append(sum.Days, dt)
		return nil
	})
	if err != nil {
		return nil, err
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
	if len(m.Objects) == 0 || meta.Watermark.IsZero() {
		// A manifest without objects or watermark would tell merge the
		// batch view is empty up to that time; publish none instead.
		sum.Unpublished = fmt.Sprintf("none of the %d objects under %s is in an hour of events/dt=…/hour=…/ before the watermark %s: no batch view published yet",
			b.rawCount(ctx), storage.Join(b.Raw.Location(), glue.RawEvents.Prefix), plan.Watermark.Format(time.RFC3339))
		sum.Status = StatusSkipped
		sum.Elapsed = b.Now().Sub(start)
		return sum, nil
	}
	raw, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("encoding batch manifest meta: %w", err)
	}
	m.Meta = raw
	err = commit.Publish(ctx, m)
	published = true // past the claim the staged objects belong to it: no Abort
	if errors.Is(err, storage.ErrLostRace) {
		return &Summary{Run: plan.RunID, Status: StatusLostRace, Elapsed: b.Now().Sub(start)}, nil
	}
	if err != nil {
		return nil, err
	}
	sum.Watermark = meta.Watermark
	sum.Elapsed = b.Now().Sub(start)
	return sum, nil
}

// checkRawEvents returns ErrNoRawEvents, saying where they were expected
// (and found, when the location is one level too high), when the raw
// location holds no event objects at all.
func (b *Builder) checkRawEvents(ctx context.Context) error {
	if b.rawCount(ctx) > 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrNoRawEvents,
		storage.WhereExpected(ctx, b.Raw, glue.RawEvents.Prefix, "objects at events/dt=YYYY-MM-DD/hour=HH/"))
}

// rawCount is how many objects the raw location holds under events/ (0
// when listing fails: the caller's own listing has reported that).
func (b *Builder) rawCount(ctx context.Context) int {
	infos, err := b.Raw.List(ctx, glue.RawEvents.Prefix)
	if err != nil {
		return 0
	}
	return len(infos)
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
func (b *Builder) publishDay(ctx context.Context, commit *storage.Commit, dt string, old BatchMeta, rebuild map[string]bool, newRows []views.Row) (DayRecord, error) {
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
