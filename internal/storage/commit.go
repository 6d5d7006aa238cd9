package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// ErrLostRace is returned (wrapped) by BeginCommit and Commit.Publish when
// another run committed first. The losing run's staged objects are gone
// and nothing it wrote is left in place.
var ErrLostRace = errors.New("another run committed first")

// StaleAfter is how old a claimed commit (Manifest.Pending) must be before
// another run completes it: longer than any run lasts (a Lambda lives 15
// minutes at most), so its owner is gone.
const StaleAfter = 20 * time.Minute

// Pending is a claimed commit: the manifest to publish once each staged
// object has been copied to its place.
type Pending struct {
	Manifest Manifest  `json:"manifest"`
	Moves    []Move    `json:"moves"`
	Claimed  time.Time `json:"claimed"`
}

// Move is one staged object and the key it is published under.
type Move struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Commit publishes one run's objects and manifest so that concurrent runs
// cannot both commit, and the loser leaves no trace.
//
// A run writes its objects under a staging prefix of its own (Put), never
// at their published keys. Publish then claims the commit: it rewrites the
// manifest, conditionally on the version read at BeginCommit, as the
// previous manifest plus Pending (the new manifest and the moves). Exactly
// one of two racing runs wins that compare-and-swap; the loser deletes its
// staging prefix and reports ErrLostRace, having written nothing else.
// The winner copies its staged objects to their keys, replaces the
// manifest by the new one (again conditionally, on the claim's version)
// and deletes its staging prefix.
//
// A run that dies after its claim leaves a complete claim: the staged
// objects exist until the claim is finished. BeginCommit finishes a claim
// older than StaleAfter (the same idempotent copies, then the conditional
// manifest put); a younger claim belongs to a run still at work, so the
// new run reports ErrLostRace.
type Commit struct {
	store   Versioned
	key     string
	staging string
	version string
	base    Manifest
	now     func() time.Time

	mu    sync.Mutex // guards moves: Put and Staged may be called concurrently
	moves []Move
}

// BeginCommit reads the manifest at key and its version and starts a
// commit whose objects are staged under dir(key)/_staging/<run>/. It
// returns the committed manifest (zero when there is none yet).
func BeginCommit(ctx context.Context, s Store, key, run string, now func() time.Time) (*Commit, Manifest, error) {
	v, ok := s.(Versioned)
	if !ok {
		return nil, Manifest{}, fmt.Errorf("committing %s: the store %T cannot write conditionally", Join(s.Location(), key), s)
	}
	if run == "" || strings.Contains(run, "/") {
		return nil, Manifest{}, fmt.Errorf("committing %s: invalid run id %q", Join(s.Location(), key), run)
	}
	for range 3 {
		m, ver, err := readVersioned(ctx, v, key)
		if err != nil {
			return nil, Manifest{}, err
		}
		if m.Pending != nil {
			if now().Sub(m.Pending.Claimed) < StaleAfter {
				return nil, Manifest{}, fmt.Errorf("run %s is publishing %s: %w", m.Pending.Manifest.Run, Join(s.Location(), key), ErrLostRace)
			}
			if err := finish(ctx, v, key, m.Pending, ver); err != nil && !errors.Is(err, ErrConflict) {
				return nil, Manifest{}, fmt.Errorf("finishing the stale commit of run %s: %w", m.Pending.Manifest.Run, err)
			}
			continue // read what is committed now
		}
		c := &Commit{store: v, key: key, staging: stagingRoot(key) + run + "/", version: ver, base: m, now: now}
		return c, m, nil
	}
	return nil, Manifest{}, fmt.Errorf("committing %s: the manifest keeps changing: %w", Join(s.Location(), key), ErrLostRace)
}

func stagingRoot(key string) string {
	dir := path.Dir(key)
	if dir == "." {
		return "_staging/"
	}
	return dir + "/_staging/"
}

func readVersioned(ctx context.Context, v Versioned, key string) (Manifest, string, error) {
	var m Manifest
	data, ver, err := v.GetVersion(ctx, key)
	if errors.Is(err, ErrNotExist) {
		return m, "", nil
	}
	if err != nil {
		return m, "", fmt.Errorf("reading manifest: %w", err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, "", fmt.Errorf("decoding manifest %s: %w", Join(v.Location(), key), err)
	}
	return m, ver, nil
}

// Version is the version of the manifest the commit is conditional on
// ("" when there was none).
func (c *Commit) Version() string { return c.version }

// Put stages an object that Publish puts at key. It is safe for concurrent
// use (before Publish).
func (c *Commit) Put(ctx context.Context, key string, data []byte) error {
	from := c.staging + key
	if err := c.store.Put(ctx, from, data); err != nil {
		return fmt.Errorf("staging %s: %w", key, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, mv := range c.moves {
		if mv.To == key {
			c.moves[i].From = from
			return nil
		}
	}
	c.moves = append(c.moves, Move{From: from, To: key})
	return nil
}

// Staged reports whether key has been staged in this commit.
func (c *Commit) Staged(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, mv := range c.moves {
		if mv.To == key {
			return true
		}
	}
	return false
}

// Publish claims the commit, moves the staged objects into place and
// publishes m. When another run committed first it removes the staged
// objects and returns an error wrapping ErrLostRace.
func (c *Commit) Publish(ctx context.Context, m Manifest) error {
	claim := c.base
	claim.Pending = &Pending{Manifest: m, Moves: c.moves, Claimed: c.now().UTC()}
	data, err := encodeManifest(claim)
	if err != nil {
		return err
	}
	ver, err := c.store.PutIf(ctx, c.key, data, c.version)
	if errors.Is(err, ErrConflict) {
		// A reply lost after the store took the claim makes the SDK send
		// it again, and the store refuses the copy: the claim is ours
		// when the manifest now holds exactly what we wrote.
		if cur, curVer, rerr := c.store.GetVersion(ctx, c.key); rerr == nil && bytes.Equal(cur, data) {
			ver, err = curVer, nil
		}
	}
	if errors.Is(err, ErrConflict) {
		if aerr := c.Abort(ctx); aerr != nil {
			return errors.Join(fmt.Errorf("claiming %s: %w", Join(c.store.Location(), c.key), ErrLostRace), aerr)
		}
		return fmt.Errorf("claiming %s: %w", Join(c.store.Location(), c.key), ErrLostRace)
	}
	if err != nil {
		return fmt.Errorf("claiming the commit of %s: %w", Join(c.store.Location(), c.key), err)
	}
	if err := finish(ctx, c.store, c.key, claim.Pending, ver); err != nil {
		return c.finishFailed(ctx, m, err)
	}
	// Objects staged by runs that died before their claim are garbage
	// once older than any run; the winner sweeps them (a failed sweep
	// leaves them to the next one).
	_ = SweepStale(ctx, c.store, stagingRoot(c.key), c.now(), StaleAfter)
	return nil
}

// finishFailed sorts out an error of the winner's finish.
func (c *Commit) finishFailed(ctx context.Context, m Manifest, err error) error {
	if errors.Is(err, ErrConflict) {
		// A later run found the claim stale and finished it: the same
		// copies and the same manifest.
		// Or the reply to our own manifest write was lost and the SDK's
		// second try refused. Either way the staged copies are done with.
		cur, _, rerr := readVersioned(ctx, c.store, c.key)
		if rerr == nil && cur.Pending == nil && cur.Run == m.Run {
			_ = c.Abort(ctx) // a failed delete leaves them to SweepStale
			return nil
		}
	}
	return fmt.Errorf("publishing run %s: %w", m.Run, err)
}

// SweepStale deletes the objects under prefix last written more than age
// before now: what runs that died left in a staging area.
func SweepStale(ctx context.Context, s Store, prefix string, now time.Time, age time.Duration) error {
	infos, err := s.List(ctx, prefix)
	if err != nil {
		return fmt.Errorf("listing staged objects %s: %w", Join(s.Location(), prefix), err)
	}
	for _, o := range infos {
		if !o.ModTime.IsZero() && now.Sub(o.ModTime) > age {
			if err := s.Delete(ctx, o.Key); err != nil {
				return fmt.Errorf("sweeping stale staged objects: %w", err)
			}
		}
	}
	return nil
}

// finish copies a claim's staged objects into place, publishes its
// manifest if the claim (version) is still current and deletes the
// staged objects.
func finish(ctx context.Context, v Versioned, key string, p *Pending, version string) error {
	// The copies are independent (the manifest names them only once all
	// are done): they run side by side, as do the deletes.
	if err := forEachMove(ctx, p.Moves, func(ctx context.Context, mv Move) error {
		return copyObject(ctx, v, mv.From, mv.To)
	}); err != nil {
		return err
	}
	m := p.Manifest
	objs, err := describe(ctx, v, m.Objects)
	if err != nil {
		return fmt.Errorf("publishing manifest %s: %w", Join(v.Location(), key), err)
	}
	m.Objects = objs
	data, err := encodeManifest(m)
	if err != nil {
		return err
	}
	if _, err := v.PutIf(ctx, key, data, version); err != nil {
		return fmt.Errorf("publishing manifest %s: %w", Join(v.Location(), key), err)
	}
	return forEachMove(ctx, p.Moves, func(ctx context.Context, mv Move) error {
		if err := v.Delete(ctx, mv.From); err != nil {
			return fmt.Errorf("cleaning staged objects: %w", err)
		}
		return nil
	})
}

// moveWorkers is how many staged objects finish copies (or deletes) at once.
const moveWorkers = 8

func forEachMove(ctx context.Context, moves []Move, f func(context.Context, Move) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(moveWorkers)
	for _, mv := range moves {
		g.Go(func() error { return f(gctx, mv) })
	}
	return g.Wait()
}

// copyObject copies the staged object from to its key to, inside the store
// when it can (Copier), else by reading and writing it.
func copyObject(ctx context.Context, s Store, from, to string) error {
	if c, ok := s.(Copier); ok {
		if err := c.Copy(ctx, from, to); err != nil {
			return fmt.Errorf("moving staged %s into place: %w", from, err)
		}
		return nil
	}
	data, err := ReadAll(ctx, s, from)
	if err != nil {
		return fmt.Errorf("moving staged %s: %w", from, err)
	}
	if err := s.Put(ctx, to, data); err != nil {
		return fmt.Errorf("moving staged %s into place: %w", from, err)
	}
	return nil
}

// Abort deletes the objects staged so far; the published state is
// untouched.
func (c *Commit) Abort(ctx context.Context) error {
	var errs []error
	for _, mv := range c.moves {
		if err := c.store.Delete(ctx, mv.From); err != nil {
			errs = append(errs, err)
		}
	}
	c.moves = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing the staged objects of %s: %w", c.staging, err)
	}
	return nil
}

func encodeManifest(m Manifest) ([]byte, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return append(data, '\n'), nil
}
