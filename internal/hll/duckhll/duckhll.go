package duckhll

import (
	"database/sql"
	"database/sql/driver"
	"fmt"

	"github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/internal/hll"
)

// Names of the functions Register adds.
const (
	FuncApproxSet   = "hll_approx_set"
	FuncMerge       = "hll_merge"
	FuncCardinality = "hll_cardinality"
)

// Register adds the scalar functions to the DuckDB connection c:
//
//	hll_approx_set(VARCHAR[]) BLOB: the sketch of the non-NULL values, NULL when there are none
//	hll_merge(BLOB[]) BLOB: the merge of the non-NULL sketches, NULL when there are none
//	hll_cardinality(BLOB) BIGINT: the sketch's cardinality
func Register(c *sql.Conn) error {
	varchar, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("registering the HyperLogLog functions: %w", err)
	}
	blob, err := duckdb.NewTypeInfo(duckdb.TYPE_BLOB)
	if err != nil {
		return fmt.Errorf("registering the HyperLogLog functions: %w", err)
	}
	bigint, err := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	if err != nil {
		return fmt.Errorf("registering the HyperLogLog functions: %w", err)
	}
	varchars, err := duckdb.NewListInfo(varchar)
	if err != nil {
		return fmt.Errorf("registering the HyperLogLog functions: %w", err)
	}
	blobs, err := duckdb.NewListInfo(blob)
	if err != nil {
		return fmt.Errorf("registering the HyperLogLog functions: %w", err)
	}
	for _, f := range []struct {
		name string
		fn   *scalar
	}{
		{FuncApproxSet, &scalar{in: varchars, out: blob, run: approxSet}},
		{FuncMerge, &scalar{in: blobs, out: blob, run: merge}},
		{FuncCardinality, &scalar{in: blob, out: bigint, run: cardinality}},
	} {
		if err := duckdb.RegisterScalarUDF(c, f.name, f.fn); err != nil {
			return fmt.Errorf("registering the DuckDB function %s: %w", f.name, err)
		}
	}
	return nil
}

// scalar is a one-argument DuckDB scalar function; NULL gives NULL.
type scalar struct {
	in, out duckdb.TypeInfo
	run     func(v driver.Value) (any, error)
}

func (s *scalar) Config() duckdb.ScalarFuncConfig {
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{s.in}, ResultTypeInfo: s.out}
}

func (s *scalar) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(vals []driver.Value) (any, error) { return s.run(vals[0]) }}
}

func list(v driver.Value, fn string) ([]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: argument is %T, want a list", fn, v)
	}
	return l, nil
}

func approxSet(v driver.Value) (any, error) {
	vals, err := list(v, FuncApproxSet)
	if err != nil {
		return nil, err
	}
	s := hll.New()
	added := false
	for _, e := range vals {
		switch x := e.(type) {
		case nil:
			continue
		case string:
			s.AddString(x)
		case []byte:
			s.Add(x)
		default:
			return nil, fmt.Errorf("%s: list element is %T, want text", FuncApproxSet, e)
		}
		added = true
	}
	if !added {
		return nil, nil
	}
	return s.MarshalBinary()
}

func merge(v driver.Value) (any, error) {
	vals, err := list(v, FuncMerge)
	if err != nil {
		return nil, err
	}
	var acc *hll.Sketch
	for i, e := range vals {
		if e == nil {
			continue
		}
		b, ok := e.([]byte)
		if !ok {
			return nil, fmt.Errorf("%s: list element %d is %T, want a sketch (BLOB)", FuncMerge, i, e)
		}
		s, err := hll.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%s: list element %d: %w", FuncMerge, i, err)
		}
		if acc == nil {
			acc = s
			continue
		}
		if err := acc.Merge(s); err != nil {
			return nil, fmt.Errorf("%s: %w", FuncMerge, err)
		}
	}
	if acc == nil {
		return nil, nil
	}
	return acc.MarshalBinary()
}

func cardinality(v driver.Value) (any, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("%s: argument is %T, want a sketch (BLOB)", FuncCardinality, v)
	}
	s, err := hll.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FuncCardinality, err)
	}
	return s.Cardinality(), nil
}
