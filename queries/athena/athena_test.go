package athena_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/lambdastack/lambdastack/queries"
	"github.com/lambdastack/lambdastack/queries/athena"
)

// fake is an Athena that runs one query through the given states and
// returns pages of results.
type fake struct {
	athena.API
	states  []types.QueryExecutionState
	pages   []*types.ResultSet
	started *sdk.StartQueryExecutionInput
	stopped bool
}

func (f *fake) StartQueryExecution(_ context.Context, in *sdk.StartQueryExecutionInput, _ ...func(*sdk.Options)) (*sdk.StartQueryExecutionOutput, error) {
	f.started = in
	return &sdk.StartQueryExecutionOutput{QueryExecutionId: aws.String("q-1")}, nil
}

func (f *fake) GetQueryExecution(_ context.Context, _ *sdk.GetQueryExecutionInput, _ ...func(*sdk.Options)) (*sdk.GetQueryExecutionOutput, error) {
	st := f.states[0]
	if len(f.states) > 1 {
		f.states = f.states[1:]
	}
	return &sdk.GetQueryExecutionOutput{QueryExecution: &types.QueryExecution{Status: &types.QueryExecutionStatus{State: st, StateChangeReason: aws.String("SYNTAX_ERROR: line 1")}}}, nil
}

func (f *fake) GetQueryResults(_ context.Context, in *sdk.GetQueryResultsInput, _ ...func(*sdk.Options)) (*sdk.GetQueryResultsOutput, error) {
	i := 0
	if in.NextToken != nil {
		i = int(aws.ToString(in.NextToken)[0] - '0')
	}
	out := &sdk.GetQueryResultsOutput{ResultSet: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func (f *fake) StopQueryExecution(_ context.Context, _ *sdk.StopQueryExecutionInput, _ ...func(*sdk.Options)) (*sdk.StopQueryExecutionOutput, error) {
	f.stopped = true
	return &sdk.StopQueryExecutionOutput{}, nil
}

func row(vals ...string) types.Row {
	r := types.Row{}
	for _, v := range vals {
		if v == "NULL" {
			r.Data = append(r.Data, types.Datum{})
			continue
		}
		r.Data = append(r.Data, types.Datum{VarCharValue: aws.String(v)})
	}
	return r
}

func noSleep(context.Context, time.Duration) error { return nil }

func TestRunPollsAndReadsPages(t *testing.T) {
	q, err := queries.Get("top_event_types")
	if err != nil {
		t.Fatal(err)
	}
	vals, err := q.Bind(map[string]string{"now": "2026-11-22T10:00:00Z"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	meta := &types.ResultSetMetadata{ColumnInfo: []types.ColumnInfo{
		{Name: aws.String("event_type"), Type: aws.String("varchar")},
		{Name: aws.String("events"), Type: aws.String("bigint")},
		{Name: aws.String("value_sum"), Type: aws.String("double")},
	}}
	f := &fake{
		states: []types.QueryExecutionState{types.QueryExecutionStateQueued, types.QueryExecutionStateRunning, types.QueryExecutionStateSucceeded},
		pages: []*types.ResultSet{
			{ResultSetMetadata: meta, Rows: []types.Row{row("event_type", "events", "value_sum"), row("click", "40", "0.0")}},
			{Rows: []types.Row{row("purchase", "12", "99.5"), row("share", "3", "NULL")}},
		},
	}
	r := &athena.Runner{API: f, WorkGroup: "lambdastack-dev", Database: "lambdastack_dev", Sleep: noSleep}
	res, err := r.Run(context.Background(), q, vals)
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(f.started.WorkGroup) + " " + aws.ToString(f.started.QueryExecutionContext.Database); got != "lambdastack-dev lambdastack_dev" {
		t.Errorf("started in %s", got)
	}
	if got := strings.Join(f.started.ExecutionParameters, "|"); got != "TIMESTAMP '2026-11-22 10:00:00'|'2026-11-21'" {
		t.Errorf("execution parameters %s", got)
	}
	if aws.ToString(f.started.QueryString) != q.SQL {
		t.Errorf("query text changed")
	}
	want := [][]any{{"click", int64(40), 0.0}, {"purchase", int64(12), 99.5}, {"share", int64(3), nil}}
	if len(res.Rows) != len(want) {
		t.Fatalf("rows %v", res.Rows)
	}
	for i := range want {
		for j := range want[i] {
			if res.Rows[i][j] != want[i][j] {
				t.Errorf("row %d col %d: %#v, want %#v", i, j, res.Rows[i][j], want[i][j])
			}
		}
	}
}

func TestRunReportsFailure(t *testing.T) {
	q, _ := queries.Get("rejected_by_reason")
	f := &fake{states: []types.QueryExecutionState{types.QueryExecutionStateRunning, types.QueryExecutionStateFailed}}
	r := &athena.Runner{API: f, WorkGroup: "wg", Sleep: noSleep}
	_, err := r.Run(context.Background(), q, nil)
	if err == nil || !strings.Contains(err.Error(), "failed on Athena: SYNTAX_ERROR") {
		t.Fatalf("error %v", err)
	}
	if f.started.ExecutionParameters != nil {
		t.Errorf("parameters sent for a query without any")
	}
}

func TestCancelStopsTheQuery(t *testing.T) {
	q, _ := queries.Get("rejected_by_reason")
	f := &fake{states: []types.QueryExecutionState{types.QueryExecutionStateRunning}}
	ctx, cancel := context.WithCancel(context.Background())
	r := &athena.Runner{API: f, WorkGroup: "wg", Sleep: func(ctx context.Context, _ time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	_, err := r.Run(ctx, q, nil)
	if !errors.Is(err, context.Canceled) || !f.stopped {
		t.Fatalf("error %v, stopped %v", err, f.stopped)
	}
}
