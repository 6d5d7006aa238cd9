package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/glue"
	"github.com/lambdastack/lambdastack/internal/hll/duckhll"
	"github.com/lambdastack/lambdastack/queries"
)

// Dirs are the local directories standing in for the buckets: Raw holds
// events/ and errors/, Views holds batch/, speed/, merged/ and users/.
type Dirs struct {
	Raw   string
	Views string
}

// DirsUnder returns the demo layout under dir: dir/raw and dir/views when
// they exist, otherwise dir itself for both.
func DirsUnder(dir string) Dirs {
	d := Dirs{Raw: filepath.Join(dir, "raw"), Views: filepath.Join(dir, "views")}
	if !isDir(d.Raw) && !isDir(d.Views) {
		return Dirs{Raw: dir, Views: dir}
	}
	return d
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Runner runs queries on an in-memory DuckDB database whose views read the
// files found under Dirs when the runner was opened (or last refreshed).
type Runner struct {
	dirs Dirs
	db   *sql.DB
	// Files counts the files each table's view reads, by table name.
	Files map[string]int
}

// Open starts DuckDB and creates the table views over dirs.
func Open(ctx context.Context, dirs Dirs) (*Runner, error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("starting DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	// One connection: the settings and views below are per database, and
	// a single connection keeps them trivially visible to every query.
	db.SetMaxOpenConns(1)
	r := &Runner{dirs: dirs, db: db}
	if _, err := db.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
		db.Close()
		return nil, fmt.Errorf("setting the DuckDB time zone to UTC: %w", err)
	}
	if err := registerHLL(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := r.Refresh(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return r, nil
}

// registerHLL adds the HyperLogLog functions that Exec's rewrite of the
// Trino forms calls (on the one connection).
func registerHLL(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connecting to DuckDB: %w", err)
	}
	defer conn.Close()
	return duckhll.Register(conn)
}

// Close stops DuckDB.
func (r *Runner) Close() error { return r.db.Close() }

// Refresh recreates the views over the files present now.
func (r *Runner) Refresh(ctx context.Context) error {
	files := map[string]int{}
	for _, t := range glue.Tables() {
		dir := r.dirs.Views
		if t.Name == glue.RawEvents.Name || t.Name == glue.Errors.Name {
			dir = r.dirs.Raw
		}
		stmt, n, err := viewSQL(t, dir)
		if err != nil {
			return err
		}
		if _, err := r.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the DuckDB view %s over %s: %w", t.Name, filepath.Join(dir, t.Prefix), err)
		}
		files[t.Name] = n
	}
	r.Files = files
	return nil
}

// duckType maps a glue column type to DuckDB's.
func duckType(glueType string) (string, error) {
	switch glueType {
	case glue.TString:
		return "VARCHAR", nil
	case glue.TBigint:
		return "BIGINT", nil
	case glue.TDouble:
		return "DOUBLE", nil
	case glue.TTimestamp:
		return "TIMESTAMP", nil
	case glue.TBinary:
		return "BLOB", nil
	case glue.TBigints:
		return "BIGINT[]", nil
	case glue.TDoubles:
		return "DOUBLE[]", nil
	case glue.TStringMap:
		return "MAP(VARCHAR, VARCHAR)", nil
	}
	return "", fmt.Errorf("no DuckDB type for glue type %q", glueType)
}

// pathPattern turns a table's prefix and path template into a regular
// expression over a file's path (slash-separated) whose groups are the
// partition keys, in template order.
func pathPattern(t glue.Table) (*regexp.Regexp, []string) {
	tmpl := t.Prefix + t.PathTemplate
	var b strings.Builder
	var keys []string
	b.WriteString("(?:^|/)")
	for {
		i := strings.Index(tmpl, "${")
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(tmpl))
			break
		}
		j := strings.Index(tmpl[i:], "}")
		b.WriteString(regexp.QuoteMeta(tmpl[:i]))
		b.WriteString("([^/]+)")
		keys = append(keys, tmpl[i+2:i+j])
		tmpl = tmpl[i+j+1:]
	}
	// The object itself, possibly in subfolders of the partition (Athena
	// reads every object below a partition's location), and not hidden,
	// temporary or a marker (Athena skips names starting with . or _).
	b.WriteString("(?:[^/._][^/]*/)*[^/._][^/]*$")
	return regexp.MustCompile(b.String()), keys
}

// listFiles returns the files under dir/prefix whose path matches the
// table's layout, sorted.
func listFiles(t glue.Table, dir string, re *regexp.Regexp) ([]string, error) {
	root := filepath.Join(dir, filepath.FromSlash(t.Prefix))
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		if re.MatchString(filepath.ToSlash(abs)) {
			out = append(out, abs)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the files of %s under %s: %w", t.Name, root, err)
	}
	sort.Strings(out)
	return out, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func quoteList(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = quote(filepath.ToSlash(f))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// viewSQL builds the CREATE VIEW statement of t over the files under dir,
// and returns how many files it reads.
func viewSQL(t glue.Table, dir string) (string, int, error) {
	re, keys := pathPattern(t)
	files, err := listFiles(t, dir, re)
	if err != nil {
		return "", 0, err
	}
	var cols []string
	if len(files) == 0 {
		for _, c := range append(append([]glue.Column(nil), t.Columns...), t.PartitionKeys...) {
			dt, err := duckType(c.Type)
			if err != nil {
				return "", 0, fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
			}
			cols = append(cols, fmt.Sprintf("CAST(NULL AS %s) AS %s", dt, c.Name))
		}
		return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS SELECT %s WHERE false", t.Name, strings.Join(cols, ", ")), 0, nil
	}
	var parquet, text []string
	for _, f := range files {
		if strings.HasSuffix(f, ".parquet") {
			parquet = append(parquet, f)
		} else {
			text = append(text, f)
		}
	}
	var sources []string
	if len(parquet) > 0 {
		sel, err := projection(t, keys, re)
		if err != nil {
			return "", 0, err
		}
		sources = append(sources, fmt.Sprintf("SELECT %s FROM read_parquet(%s, filename = true, union_by_name = true, hive_partitioning = false)",
			sel, quoteList(parquet)))
	}
	if len(text) > 0 {
		sel, err := projection(t, keys, re)
		if err != nil {
			return "", 0, err
		}
		var spec []string
		for _, c := range t.Columns {
			dt, err := duckType(c.Type)
			if err != nil {
				return "", 0, fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
			}
			if c.Type == glue.TTimestamp {
				dt = "VARCHAR" // RFC 3339 text, cast below
			}
			spec = append(spec, fmt.Sprintf("%s: %s", quote(c.Name), quote(dt)))
		}
		sources = append(sources, fmt.Sprintf("SELECT %s FROM read_json(%s, format = 'newline_delimited', columns = {%s}, filename = true, hive_partitioning = false, ignore_errors = false)",
			sel, quoteList(text), strings.Join(spec, ", ")))
	}
	return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", t.Name, strings.Join(sources, " UNION ALL ")), len(files), nil
}

// projection is the select list turning a file's columns into the table's:
// glue types, UTC timestamps, and partition keys from the path.
func projection(t glue.Table, keys []string, re *regexp.Regexp) (string, error) {
	var cols []string
	for _, c := range t.Columns {
		dt, err := duckType(c.Type)
		if err != nil {
			return "", fmt.Errorf("table %s column %s: %w", t.Name, c.Name, err)
		}
		expr := fmt.Sprintf("CAST(%s AS %s)", c.Name, dt)
		if c.Type == glue.TTimestamp {
			// Parquet timestamps adjusted to UTC read as TIMESTAMPTZ and
			// JSON ones are RFC 3339 text: both become plain UTC
			// TIMESTAMP, as Athena's timestamp type is.
			expr = fmt.Sprintf("CAST(CAST(%s AS TIMESTAMPTZ) AS TIMESTAMP)", c.Name)
		}
		cols = append(cols, expr+" AS "+c.Name)
	}
	for i, k := range keys {
		cols = append(cols, fmt.Sprintf("regexp_extract(filename, %s, %d) AS %s", quote(re.String()), i+1, k))
	}
	return strings.Join(cols, ", "), nil
}

// Run runs q with vals (from q.Bind) and returns every row.
func (r *Runner) Run(ctx context.Context, q queries.Query, vals []queries.Value) (*queries.Result, error) {
	return r.Exec(ctx, q.Name, q.SQL, queries.Args(vals)...)
}

// Exec runs one SQL statement with driver arguments; name is for errors.
// Trino's HyperLogLog forms (approx_set, merge, cardinality, the casts)
// are rewritten into the functions duckhll registers, so the statement
// Athena runs is the one given here.
func (r *Runner) Exec(ctx context.Context, name, stmt string, args ...any) (*queries.Result, error) {
	stmt, err := duckhll.Rewrite(stmt)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	rows, err := r.db.QueryContext(ctx, stmt, args...)
	if err != nil {
		return nil, fmt.Errorf("running query %s on DuckDB: %w", name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("reading the columns of query %s: %w", name, err)
	}
	res := &queries.Result{Columns: cols}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("reading a row of query %s: %w", name, err)
		}
		for i := range vals {
			vals[i] = normalize(vals[i])
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the rows of query %s: %w", name, err)
	}
	return res, nil
}

// normalize turns driver values into the types queries.Result documents.
func normalize(v any) any {
	switch x := v.(type) {
	case *big.Int: // DuckDB sums BIGINT into HUGEINT
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint64:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case time.Time:
		return x.UTC()
	case duckdb.Map:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = normalize(e)
		}
		return m
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	}
	return v
}
