package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
	"github.com/lambdastack/lambdastack/internal/wait"
)

// AthenaAPI is the part of the Athena client the athena engine uses.
type AthenaAPI interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, optFns ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
}

// PlannedHour is one hour of an athena run: its UNLOAD statement.
type PlannedHour struct {
	Hour  time.Time `json:"hour"`
	Query string    `json:"query"`
}

// AthenaPlan is the plan action's answer (the batch Lambda's contract):
// Hours is empty when nothing needs building.
type AthenaPlan struct {
	RunID         string        `json:"runId"`
	StagingPrefix string        `json:"stagingPrefix"`
	Hours         []PlannedHour `json:"hours"`
}

// Athena is the athena engine: the batch view statement (HourSQL) runs on
// Athena as one UNLOAD per hour into a run-scoped prefix of Staging; the
// Go publisher (Builder.Publish with Staged) then reads those rows, rolls
// days up, commits, and deletes the prefix.
type Athena struct {
	Client    AthenaAPI
	Workgroup string
	Database  string
	// Staging is STAGING_LOCATION, an s3:// store Athena writes into.
	Staging storage.Store
	// Poll is the wait between status checks (default 2s); Timeout bounds
	// one query (default 10 minutes); Retries bounds the retries of a
	// throttled start (default 8). Sleep waits (tests inject it).
	Poll, Timeout time.Duration
	Retries       int
	Sleep         func(ctx context.Context, d time.Duration) error
	// Now is the clock of the staging sweep (default time.Now).
	Now func() time.Time
}

// planKey is where a run's plan waits for its publish.
func planKey(runID string) string { return runID + "/_plan.json" }

func hourPrefix(runID string, h time.Time) string {
	return runID + "/hour=" + h.UTC().Format("2006-01-02T15") + "/"
}

// ErrScanLimit says the workgroup's per-query scan limit stopped a query.
var ErrScanLimit = errors.New("the Athena workgroup's per-query data scan limit cancelled the query")

// StagingMaxAge is how long a run's staged Athena output may wait for its
// publish: older objects under the staging location belong to a run that
// failed between its plan and its publish, and the next plan deletes them.
const StagingMaxAge = 24 * time.Hour

// Prepare stores plan under the staging location and returns the
// statements for its hours. It first sweeps what failed runs left there.
func (a *Athena) Prepare(ctx context.Context, plan *Plan) (*AthenaPlan, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	if err := storage.SweepStale(ctx, a.Staging, "", now(), StagingMaxAge); err != nil {
		return nil, err
	}
	out := &AthenaPlan{RunID: plan.RunID, StagingPrefix: storage.Join(a.Staging.Location(), plan.RunID) + "/", Hours: []PlannedHour{}}
	if len(plan.Hours) == 0 {
		return out, nil
	}
	data, err := json.Marshal(plan)
	if err != nil {
		return nil, fmt.Errorf("encoding the plan of run %s: %w", plan.RunID, err)
	}
	if err := a.Staging.Put(ctx, planKey(plan.RunID), data); err != nil {
		return nil, fmt.Errorf("storing the plan of run %s: %w", plan.RunID, err)
	}
	table := `"` + strings.ReplaceAll(a.Database, `"`, `""`) + `"."raw_events"`
	for _, ph := range plan.Hours {
		to := storage.Join(a.Staging.Location(), hourPrefix(plan.RunID, ph.Hour))
		out.Hours = append(out.Hours, PlannedHour{Hour: ph.Hour.UTC(), Query: UnloadSQL(table, ph.Hour, to)})
	}
	return out, nil
}

// LoadPlan reads the plan Prepare stored for runID.
func (a *Athena) LoadPlan(ctx context.Context, runID string) (*Plan, error) {
	if runID == "" || strings.ContainsAny(runID, "/") {
		return nil, fmt.Errorf("publishing: invalid runId %q", runID)
	}
	data, err := storage.ReadAll(ctx, a.Staging, planKey(runID))
	if err != nil {
		return nil, fmt.Errorf("reading the plan of run %s (was it planned, or published already?): %w", runID, err)
	}
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decoding the plan of run %s: %w", runID, err)
	}
	return &p, nil
}

// RunQueries runs the statements one after another, each to completion.
func (a *Athena) RunQueries(ctx context.Context, hours []PlannedHour) error {
	for _, h := range hours {
		if err := a.Query(ctx, h.Query); err != nil {
			return fmt.Errorf("building hour %s on Athena: %w", h.Hour.UTC().Format(time.RFC3339), err)
		}
	}
	return nil
}

func (a *Athena) sleep(ctx context.Context, d time.Duration) error {
	if a.Sleep != nil {
		return a.Sleep(ctx, d)
	}
	return wait.Sleep(ctx, d)
}

// Query starts one statement in the workgroup, retrying a throttled start
// (TooManyRequestsException) with exponential backoff and full jitter, and
// waits until it ends. A query over Timeout, failed or cancelled is an
// error; one cancelled by the workgroup's scan limit wraps ErrScanLimit.
func (a *Athena) Query(ctx context.Context, stmt string) error {
	poll, timeout, retries := a.Poll, a.Timeout, a.Retries
	if poll <= 0 {
		poll = 2 * time.Second
	}
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	if retries <= 0 {
		retries = 8
	}
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(stmt), WorkGroup: aws.String(a.Workgroup),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(a.Database)}}
	var id string
	for attempt := 0; ; attempt++ {
		out, err := a.Client.StartQueryExecution(ctx, in)
		var tm *types.TooManyRequestsException
		if errors.As(err, &tm) && attempt < retries {
			backoff := min(time.Second<<attempt, 30*time.Second)
			if err := a.sleep(ctx, rand.N(backoff)+time.Millisecond); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("starting the query in workgroup %s: %w", a.Workgroup, err)
		}
		id = aws.ToString(out.QueryExecutionId)
		break
	}
	var waited time.Duration
	for {
		out, err := a.Client.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("reading the state of query %s: %w", id, err)
		}
		var st types.QueryExecutionStatus
		if out.QueryExecution != nil && out.QueryExecution.Status != nil {
			st = *out.QueryExecution.Status
		}
		reason := aws.ToString(st.StateChangeReason)
		switch st.State {
		case types.QueryExecutionStateSucceeded:
			return nil
		case types.QueryExecutionStateCancelled:
			if strings.Contains(strings.ToLower(reason), "limit") {
				return fmt.Errorf("query %s in workgroup %s: %w (%s); raise BytesScannedCutoffPerQuery or build fewer hours per run", id, a.Workgroup, ErrScanLimit, reason)
			}
			return fmt.Errorf("query %s was cancelled: %s", id, reason)
		case types.QueryExecutionStateFailed:
			return fmt.Errorf("query %s failed: %s", id, reason)
		}
		if waited >= timeout {
			return fmt.Errorf("query %s still %s after %s: timed out", id, st.State, timeout)
		}
		if err := a.sleep(ctx, poll); err != nil {
			return err
		}
		waited += poll
	}
}

// Staged is the engine of a publish: the rows an UNLOAD wrote for each
// hour of run runID.
func (a *Athena) Staged(runID string) Engine { return &stagedEngine{a: a, run: runID} }

type stagedEngine struct {
	a   *Athena
	run string
}

func (s *stagedEngine) BuildHour(ctx context.Context, hour time.Time, _ []RawObject) (*HourResult, error) {
	prefix := hourPrefix(s.run, hour)
	infos, err := s.a.Staging.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing the staged rows %s: %w", storage.Join(s.a.Staging.Location(), prefix), err)
	}
	res := &HourResult{}
	for _, o := range infos {
		data, err := storage.ReadAll(ctx, s.a.Staging, o.Key)
		if err != nil {
			return nil, err
		}
		rows, err := views.Decode(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("decoding staged rows %s: %w", storage.Join(s.a.Staging.Location(), o.Key), err)
		}
		for _, r := range rows {
			r.WindowStart = r.WindowStart.UTC()
			res.Valid += r.Events
			res.Records += r.Events
			res.Rows = append(res.Rows, r)
		}
	}
	sortRows(res.Rows)
	return res, nil
}

// Clean deletes the staging prefix of run runID.
func (a *Athena) Clean(ctx context.Context, runID string) error {
	infos, err := a.Staging.List(ctx, runID+"/")
	if err != nil {
		return fmt.Errorf("listing the staging prefix of run %s: %w", runID, err)
	}
	for _, o := range infos {
		if err := a.Staging.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("cleaning the staging prefix of run %s: %w", runID, err)
		}
	}
	return nil
}

// PublishRun commits the staged rows of runID's plan (Builder.Publish)
// and deletes its staging prefix, also when it lost the race.
func (a *Athena) PublishRun(ctx context.Context, b *Builder, runID string) (*Summary, error) {
	plan, err := a.LoadPlan(ctx, runID)
	if err != nil {
		return nil, err
	}
	sum, err := b.Publish(ctx, plan, a.Staged(runID))
	if err != nil {
		return nil, err
	}
	if err := a.Clean(ctx, runID); err != nil {
		return nil, err
	}
	return sum, nil
}

// BuildRun is the whole athena flow in one call (the command line, or a
// build action with BATCH_ENGINE=athena): plan, run each UNLOAD, publish.
func (a *Athena) BuildRun(ctx context.Context, b *Builder) (*Summary, error) {
	plan, err := b.Plan(ctx)
	if errors.Is(err, storage.ErrLostRace) {
		return &Summary{Status: StatusLostRace}, nil
	}
	if err != nil {
		return nil, err
	}
	ap, err := a.Prepare(ctx, plan)
	if err != nil {
		return nil, err
	}
	if len(ap.Hours) == 0 {
		return b.Publish(ctx, plan, a.Staged(plan.RunID)) // the watermark may still move
	}
	if err := a.RunQueries(ctx, ap.Hours); err != nil {
		if cerr := a.Clean(context.WithoutCancel(ctx), plan.RunID); cerr != nil {
			return nil, errors.Join(err, cerr)
		}
		return nil, err
	}
	return a.PublishRun(ctx, b, plan.RunID)
}
