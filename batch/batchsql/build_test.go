package batchsql_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/batch/batchsql"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/testenv"
	"github.com/lambdastack/lambdastack/internal/views"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var runAt = start.Add(3*time.Hour + 20*time.Minute)

// batchView is every batch view object of s, decoded.
func batchView(t *testing.T, s storage.Store) map[string][]views.Row {
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
		if out[o.Key], err = views.Decode(ctx, data); err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
	}
	return out
}

// sameView compares two batch views: same objects, keys, events, users
// and sketch bytes, value sums to 1e-9.
func sameView(t *testing.T, what string, got, want map[string][]views.Row) {
	t.Helper()
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%s: %d objects, want %d", what, len(got), len(want))
	}
	for key, w := range want {
		g := got[key]
		if len(g) != len(w) {
			t.Errorf("%s %s: %d rows, want %d", what, key, len(g), len(w))
			continue
		}
		for i := range w {
			a, b := g[i], w[i]
			if a.Key() != b.Key() || a.Events != b.Events || a.Users != b.Users || string(a.UsersSketch) != string(b.UsersSketch) ||
				math.Abs(a.ValueSum-b.ValueSum) > 1e-9*math.Max(1, math.Abs(b.ValueSum)) {
				t.Errorf("%s %s row %d: %v events %d users %d sum %v; want %v %d %d %v", what, key, i,
					a.Key(), a.Events, a.Users, a.ValueSum, b.Key(), b.Events, b.Users, b.ValueSum)
			}
		}
	}
}

// TestSQLBuildEqualsGo is `batch --engine sql` against `--engine go`: the
// whole Builder run, hour and day objects (day rows merge the hours'
// sketches), on generated NDJSON and Parquet raw data.
func TestSQLBuildEqualsGo(t *testing.T) {
	for _, parquet := range []bool{false, true} {
		t.Run(fmt.Sprintf("parquet=%v", parquet), func(t *testing.T) {
			raw, goOut, sqlOut := newLocalStore(t), newLocalStore(t), newLocalStore(t)
			rawHours(t, raw, parquet)
			ctx := context.Background()
			now := func() time.Time { return runAt }
			if _, err := (&batch.Builder{Raw: raw, Out: goOut, Now: now}).Run(ctx); err != nil {
				t.Fatal(err)
			}
			sum, err := (&batch.Builder{Raw: raw, Out: sqlOut, Now: now, Engine: &batchsql.Engine{Raw: raw, TempDir: t.TempDir()}}).Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Status != batch.StatusOK || len(sum.Hours) < 3 {
				t.Fatalf("sql build: %+v", sum)
			}
			sameView(t, "sql engine", batchView(t, sqlOut), batchView(t, goOut))
		})
	}
}

func newLocalStore(t *testing.T) storage.Versioned {
	t.Helper()
	s, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeAthena runs each UNLOAD's statement on DuckDB over the raw store
// (batchsql.Engine.Unload) and writes the result where the UNLOAD says,
// on the S3 emulator. Its first start is throttled and each query reports
// RUNNING once before it ends, as Athena does.
type fakeAthena struct {
	batch.AthenaAPI
	t        *testing.T
	raw      storage.Store
	staging  storage.Store
	database string
	starts   atomic.Int64
	polls    map[string]int
	finalize func(id string) types.QueryExecutionStatus // nil: run and succeed
}

var unloadRe = regexp.MustCompile(`(?s)\AUNLOAD \(\n(.*)\n\) TO '([^']*)' WITH \(format = 'PARQUET', compression = 'SNAPPY'\)\z`)
var partRe = regexp.MustCompile(`dt = '(\d{4}-\d{2}-\d{2})' AND hour = '(\d{2})'`)

func (f *fakeAthena) StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, _ ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error) {
	if f.starts.Add(1) == 1 {
		return nil, &types.TooManyRequestsException{Message: aws.String("Rate exceeded")}
	}
	if aws.ToString(in.QueryExecutionContext.Database) != f.database || aws.ToString(in.WorkGroup) == "" {
		return nil, fmt.Errorf("query without the stage's database and workgroup")
	}
	id := fmt.Sprint("q-", f.starts.Load())
	if f.finalize != nil {
		return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String(id)}, nil
	}
	m := unloadRe.FindStringSubmatch(aws.ToString(in.QueryString))
	if m == nil {
		return nil, fmt.Errorf("not an UNLOAD this fake knows: %q", aws.ToString(in.QueryString))
	}
	p := partRe.FindStringSubmatch(m[1])
	if p == nil {
		return nil, fmt.Errorf("the statement names no partition")
	}
	hour, err := time.Parse("2006-01-02 15", p[1]+" "+p[2])
	if err != nil {
		return nil, err
	}
	objs, _, err := batch.ListRaw(ctx, f.raw, hour, hour.Add(time.Hour))
	if err != nil {
		return nil, err
	}
	path := filepath.Join(f.t.TempDir(), "out.parquet")
	if err := (&batchsql.Engine{Raw: f.raw, TempDir: f.t.TempDir()}).Unload(ctx, hour, objs, f.database, m[1], path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, ok := strings.CutPrefix(m[2], f.staging.Location()+"/")
	if !ok {
		return nil, fmt.Errorf("UNLOAD to %s, outside the staging location %s", m[2], f.staging.Location())
	}
	if err := f.staging.Put(ctx, key+"20261130_"+id+"_00000", data); err != nil {
		return nil, err
	}
	return &athena.StartQueryExecutionOutput{QueryExecutionId: aws.String(id)}, nil
}

func (f *fakeAthena) GetQueryExecution(_ context.Context, in *athena.GetQueryExecutionInput, _ ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error) {
	id := aws.ToString(in.QueryExecutionId)
	st := types.QueryExecutionStatus{State: types.QueryExecutionStateRunning}
	if f.polls[id]++; f.polls[id] > 1 {
		st.State = types.QueryExecutionStateSucceeded
		if f.finalize != nil {
			st = f.finalize(id)
		}
	}
	return &athena.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &st}}, nil
}

func noSleep(context.Context, time.Duration) error { return nil }

// TestIntegrationAthenaFlow runs the batch Lambda's athena actions as the
// workflow does (plan, each UNLOAD, publish) with raw, views and staging
// on the S3 emulator and a fake Athena that runs the statements on DuckDB:
// the batch view equals the Go engine's, the staging prefix is gone, and
// a publish of a plan made before another run committed loses the race.
func TestIntegrationAthenaFlow(t *testing.T) {
	cfg := testenv.Config(t)
	ctx := context.Background()
	open := func(loc string) storage.Store {
		s, err := storage.OpenWith(ctx, loc, &cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	raw, out, staging := open("s3://"+testenv.Bucket(t)+"/"), open("s3://"+testenv.Bucket(t)+"/views"), open("s3://"+testenv.Bucket(t)+"/athena")
	rawHours(t, raw, true)
	fa := &fakeAthena{t: t, raw: raw, staging: staging, database: "lake", polls: map[string]int{}}
	now := func() time.Time { return runAt }
	h := &batch.BatchHandler{Raw: raw, Views: out, Now: now, Engine: batch.EngineAthena, Stage: "dev",
		Athena: &batch.Athena{Client: fa, Workgroup: "wg", Database: "lake", Staging: staging, Sleep: noSleep}}

	planOut, err := h.Handle(ctx, batch.BatchRequest{Action: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	plan := planOut.(*batch.AthenaPlan)
	if len(plan.Hours) < 3 || !strings.HasPrefix(plan.StagingPrefix, staging.Location()+"/"+plan.RunID) {
		t.Fatalf("plan = %+v", plan)
	}
	// A second plan before anything is committed: its publish must lose.
	stale, err := h.Handle(ctx, batch.BatchRequest{Action: "plan"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Athena.RunQueries(ctx, plan.Hours); err != nil {
		t.Fatal(err)
	}
	if err := h.Athena.RunQueries(ctx, stale.(*batch.AthenaPlan).Hours); err != nil {
		t.Fatal(err)
	}
	pub, err := h.Handle(ctx, batch.BatchRequest{Action: "publish", RunID: plan.RunID, Hours: plan.Hours})
	if err != nil {
		t.Fatal(err)
	}
	if r := pub.(*batch.BatchResponse); r.Status != batch.StatusOK || r.Hours != len(plan.Hours) {
		t.Fatalf("publish = %+v", r)
	}
	view := batchView(t, out)
	lost, err := h.Handle(ctx, batch.BatchRequest{Action: "publish", RunID: stale.(*batch.AthenaPlan).RunID})
	if err != nil {
		t.Fatal(err)
	}
	if r := lost.(*batch.BatchResponse); r.Status != batch.StatusLostRace {
		t.Errorf("publish of a stale plan = %+v, want lost_race", r)
	}
	if left, err := staging.List(ctx, ""); err != nil || len(left) != 0 {
		t.Errorf("staging after both publishes holds %d objects (%v), want none", len(left), err)
	}

	goOut := newLocalStore(t)
	if _, err := (&batch.Builder{Raw: raw, Out: goOut, Now: now}).Run(ctx); err != nil {
		t.Fatal(err)
	}
	sameView(t, "athena engine", view, batchView(t, goOut))
	sameView(t, "after the lost race", batchView(t, out), view)
}

// TestAthenaQueryErrors: the scan limit, a failure and a timeout are
// errors that say so; a throttled start was retried (each fake's first).
func TestAthenaQueryErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   types.QueryExecutionStatus
		want string
	}{
		{"scan limit", types.QueryExecutionStatus{State: types.QueryExecutionStateCancelled,
			StateChangeReason: aws.String("Query cancelled! Bytes scanned limit was exceeded")}, "scan limit"},
		{"failed", types.QueryExecutionStatus{State: types.QueryExecutionStateFailed, StateChangeReason: aws.String("SYNTAX_ERROR")}, "failed: SYNTAX_ERROR"},
		{"timeout", types.QueryExecutionStatus{State: types.QueryExecutionStateRunning}, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fa := &fakeAthena{t: t, database: "lake", polls: map[string]int{}, finalize: func(string) types.QueryExecutionStatus { return tc.st }}
			a := &batch.Athena{Client: fa, Workgroup: "wg", Database: "lake", Sleep: noSleep, Poll: time.Second, Timeout: 5 * time.Second}
			err := a.Query(context.Background(), "SELECT 1")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			if tc.name == "scan limit" && !errors.Is(err, batch.ErrScanLimit) {
				t.Errorf("error %v does not wrap ErrScanLimit", err)
			}
			if fa.starts.Load() != 2 {
				t.Errorf("%d starts, want the throttled one and its retry", fa.starts.Load())
			}
		})
	}
}
