package duckhll_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/internal/hll"
	"github.com/lambdastack/lambdastack/internal/hll/duckhll"
)

func TestRewrite(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"approx_set as varbinary",
			"SELECT CAST(approx_set(user_id) AS varbinary) AS users_sketch FROM raw_events GROUP BY 1",
			"SELECT hll_approx_set(list(user_id)) AS users_sketch FROM raw_events GROUP BY 1"},
		{"bare approx_set", "SELECT cardinality(approx_set(u)) FROM t",
			"SELECT hll_cardinality(hll_approx_set(list(u))) FROM t"},
		{"merge and cardinality, any case and spacing",
			"SELECT Cardinality( MERGE(cast(users_sketch as HyperLogLog)) ) AS users FROM v",
			"SELECT hll_cardinality( hll_merge(list(users_sketch)) ) AS users FROM v"},
		{"merged sketch kept as varbinary",
			"SELECT CAST(merge(CAST(s AS HyperLogLog)) AS varbinary) FROM v",
			"SELECT hll_merge(list(s)) FROM v"},
		{"cardinality of one sketch", "SELECT cardinality(CAST(s AS HyperLogLog)) FROM v",
			"SELECT hll_cardinality(s) FROM v"},
		{"other casts and cardinality of arrays stay",
			"SELECT CAST(x AS bigint), cardinality(arr), CAST(CAST(y AS varchar) AS varbinary) FROM v",
			"SELECT CAST(x AS bigint), cardinality(arr), CAST(CAST(y AS varchar) AS varbinary) FROM v"},
		{"strings, names and comments stay",
			"SELECT 'approx_set(x)' AS \"merge(a)\" -- cardinality(merge(CAST(s AS HyperLogLog)))\n, merge_count FROM v /* approx_set(y) */",
			"SELECT 'approx_set(x)' AS \"merge(a)\" -- cardinality(merge(CAST(s AS HyperLogLog)))\n, merge_count FROM v /* approx_set(y) */"},
		{"nested expression inside",
			"SELECT cardinality(merge(CAST(CASE WHEN a > (1) THEN s END AS HyperLogLog))) FROM v",
			"SELECT hll_cardinality(hll_merge(list(CASE WHEN a > (1) THEN s END))) FROM v"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := duckhll.Rewrite(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	for _, in := range []string{
		"SELECT merge(x) FROM v",
		"SELECT cardinality(merge(CAST(s AS HyperLogLog)) FROM v",
	} {
		if got, err := duckhll.Rewrite(in); err == nil {
			t.Errorf("Rewrite(%q) = %q, want an error", in, got)
		}
	}
}

func open(t *testing.T) *sql.Conn {
	t.Helper()
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := duckhll.Register(conn); err != nil {
		t.Fatal(err)
	}
	return conn
}

// TestDuckDBAgreesWithGo runs the rewritten Trino SQL on DuckDB and
// compares every sketch and count with the Go package's own.
func TestDuckDBAgreesWithGo(t *testing.T) {
	ctx := context.Background()
	conn := open(t)
	// Groups of different sizes (sparse, dense) with shared users, and a
	// NULL user that approx_set skips.
	sizes := map[string]int{"a": 3, "b": 700, "c": 9000}
	var rows []string
	want := map[string]*hll.Sketch{}
	all := hll.New()
	for g, n := range sizes {
		want[g] = hll.New()
		for i := range n {
			u := fmt.Sprintf("user-%d", i*7%(n+1))
			rows = append(rows, fmt.Sprintf("('%s', '%s')", g, u))
			want[g].AddString(u)
			all.AddString(u)
		}
	}
	rows = append(rows, "('a', NULL)")
	if _, err := conn.ExecContext(ctx, "CREATE TABLE ev AS SELECT * FROM (VALUES "+strings.Join(rows, ",")+") v(g, user_id)"); err != nil {
		t.Fatal(err)
	}
	build, err := duckhll.Rewrite(`CREATE TABLE sk AS SELECT g, CAST(approx_set(user_id) AS varbinary) AS users_sketch,
		cardinality(approx_set(user_id)) AS users FROM ev GROUP BY g`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, build); err != nil {
		t.Fatal(err)
	}
	res, err := conn.QueryContext(ctx, "SELECT g, users_sketch, users FROM sk")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for res.Next() {
		var g string
		var b []byte
		var users int64
		if err := res.Scan(&g, &b, &users); err != nil {
			t.Fatal(err)
		}
		w, _ := want[g].MarshalBinary()
		if !bytes.Equal(b, w) {
			t.Errorf("group %s: DuckDB's sketch differs from the Go one", g)
		}
		if users != want[g].Cardinality() {
			t.Errorf("group %s: users %d, want %d", g, users, want[g].Cardinality())
		}
		n++
	}
	if err := res.Err(); err != nil || n != len(sizes) {
		t.Fatalf("%d groups, err %v", n, err)
	}

	q, err := duckhll.Rewrite(`SELECT cardinality(merge(CAST(users_sketch AS HyperLogLog))),
		CAST(merge(CAST(users_sketch AS HyperLogLog)) AS varbinary) FROM sk`)
	if err != nil {
		t.Fatal(err)
	}
	var card int64
	var merged []byte
	if err := conn.QueryRowContext(ctx, q).Scan(&card, &merged); err != nil {
		t.Fatal(err)
	}
	w, _ := all.MarshalBinary()
	if card != all.Cardinality() || !bytes.Equal(merged, w) {
		t.Errorf("merge of all groups: %d, want %d (bytes equal %v)", card, all.Cardinality(), bytes.Equal(merged, w))
	}

	var none sql.NullInt64
	q, _ = duckhll.Rewrite("SELECT cardinality(merge(CAST(users_sketch AS HyperLogLog))) FROM sk WHERE false")
	if err := conn.QueryRowContext(ctx, q).Scan(&none); err != nil {
		t.Fatal(err)
	}
	if none.Valid {
		t.Errorf("merge over no rows: %d, want NULL (as Trino)", none.Int64)
	}
}

func TestBadSketchFailsTheQuery(t *testing.T) {
	conn := open(t)
	var n int64
	err := conn.QueryRowContext(context.Background(), "SELECT hll_cardinality(hll_merge(list(CAST('abc' AS BLOB))))").Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "decoding a sketch") {
		t.Fatalf("error %v, want one about decoding the sketch", err)
	}
}
