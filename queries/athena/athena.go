package athena

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/lambdastack/lambdastack/internal/wait"
	"github.com/lambdastack/lambdastack/queries"
)

// API is the part of the Athena client the runner uses.
type API interface {
	StartQueryExecution(ctx context.Context, in *athena.StartQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StartQueryExecutionOutput, error)
	GetQueryExecution(ctx context.Context, in *athena.GetQueryExecutionInput, opts ...func(*athena.Options)) (*athena.GetQueryExecutionOutput, error)
	GetQueryResults(ctx context.Context, in *athena.GetQueryResultsInput, opts ...func(*athena.Options)) (*athena.GetQueryResultsOutput, error)
	StopQueryExecution(ctx context.Context, in *athena.StopQueryExecutionInput, opts ...func(*athena.Options)) (*athena.StopQueryExecutionOutput, error)
}

// Runner runs queries in one workgroup and database.
type Runner struct {
	API       API
	WorkGroup string
	Database  string
	// OutputLocation (s3://…) is needed only when the workgroup does not
	// enforce one.
	OutputLocation string
	// Poll is the first wait between status checks; it doubles up to 5 s.
	// Zero means 250 ms.
	Poll time.Duration
	// Sleep waits between polls; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Run runs q with vals (from q.Bind) and returns every row of the result.
func (r *Runner) Run(ctx context.Context, q queries.Query, vals []queries.Value) (*queries.Result, error) {
	in := &athena.StartQueryExecutionInput{
		QueryString: aws.String(q.SQL),
		WorkGroup:   aws.String(r.WorkGroup),
	}
	if r.Database != "" {
		in.QueryExecutionContext = &types.QueryExecutionContext{Database: aws.String(r.Database)}
	}
	if r.OutputLocation != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: aws.String(r.OutputLocation)}
	}
	if len(vals) > 0 {
		in.ExecutionParameters = queries.Literals(vals)
	}
	out, err := r.API.StartQueryExecution(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("starting query %s in Athena workgroup %s: %w", q.Name, r.WorkGroup, err)
	}
	id := aws.ToString(out.QueryExecutionId)
	if err := r.wait(ctx, q.Name, id); err != nil {
		return nil, err
	}
	return r.results(ctx, q.Name, id)
}

func (r *Runner) sleep(ctx context.Context, d time.Duration) error {
	if r.Sleep != nil {
		return r.Sleep(ctx, d)
	}
	return wait.Sleep(ctx, d)
}

// wait polls the execution until it ends; a cancelled ctx stops it.
func (r *Runner) wait(ctx context.Context, name, id string) error {
	delay := r.Poll
	if delay <= 0 {
		delay = 250 * time.Millisecond
	}
	for {
		st, err := r.API.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String(id)})
		if err != nil {
			return r.stop(ctx, id, fmt.Errorf("checking Athena query %s (%s): %w", name, id, err))
		}
		var state types.QueryExecutionState
		var reason string
		if st.QueryExecution != nil && st.QueryExecution.Status != nil {
			state = st.QueryExecution.Status.State
			reason = aws.ToString(st.QueryExecution.Status.StateChangeReason)
		}
		switch state {
		case types.QueryExecutionStateSucceeded:
			return nil
		case types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return fmt.Errorf("query %s (%s) %s on Athena: %s", name, id, strings.ToLower(string(state)), reason)
		}
		if err := r.sleep(ctx, delay); err != nil {
			return r.stop(ctx, id, fmt.Errorf("waiting for Athena query %s (%s): %w", name, id, err))
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// stop asks Athena to stop the execution after the caller gave up, so it
// does not keep scanning (and billing); err is returned either way.
func (r *Runner) stop(ctx context.Context, id string, err error) error {
	if ctx.Err() == nil {
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, serr := r.API.StopQueryExecution(sctx, &athena.StopQueryExecutionInput{QueryExecutionId: aws.String(id)}); serr != nil {
		return errors.Join(err, fmt.Errorf("stopping Athena query %s: %w", id, serr))
	}
	return err
}

// results reads every page; the first row of the first page is the header.
func (r *Runner) results(ctx context.Context, name, id string) (*queries.Result, error) {
	res := &queries.Result{}
	var colTypes []string
	var token *string
	first := true
	for {
		out, err := r.API.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), NextToken: token})
		if err != nil {
			return nil, fmt.Errorf("reading the results of Athena query %s (%s): %w", name, id, err)
		}
		if out.ResultSet == nil {
			break
		}
		if first && out.ResultSet.ResultSetMetadata != nil {
			for _, c := range out.ResultSet.ResultSetMetadata.ColumnInfo {
				res.Columns = append(res.Columns, aws.ToString(c.Name))
				colTypes = append(colTypes, aws.ToString(c.Type))
			}
		}
		rows := out.ResultSet.Rows
		if first && len(rows) > 0 && len(res.Columns) > 0 && isHeader(rows[0], res.Columns) {
			rows = rows[1:]
		}
		first = false
		for _, row := range rows {
			vals := make([]any, len(res.Columns))
			for i := range vals {
				if i < len(row.Data) && row.Data[i].VarCharValue != nil {
					vals[i] = convert(colTypes[i], *row.Data[i].VarCharValue)
				}
			}
			res.Rows = append(res.Rows, vals)
		}
		token = out.NextToken
		if token == nil {
			break
		}
	}
	return res, nil
}

func isHeader(row types.Row, cols []string) bool {
	if len(row.Data) != len(cols) {
		return false
	}
	for i, d := range row.Data {
		if aws.ToString(d.VarCharValue) != cols[i] {
			return false
		}
	}
	return true
}

// convert turns Athena's text value into the type queries.Result uses;
// text that does not parse stays text.
func convert(typ, s string) any {
	switch typ {
	case "bigint", "integer", "smallint", "tinyint":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case "double", "float", "real", "decimal":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case "boolean":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case "timestamp", "timestamp with time zone":
		for _, l := range []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999 MST", time.RFC3339Nano} {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC()
			}
		}
	}
	return s
}
