package batchsql

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/marcboeker/go-duckdb/v2"

	"github.com/lambdastack/lambdastack/batch"
	"github.com/lambdastack/lambdastack/internal/event"
	"github.com/lambdastack/lambdastack/internal/hll/duckhll"
	"github.com/lambdastack/lambdastack/internal/storage"
	"github.com/lambdastack/lambdastack/internal/views"
)

// Engine builds batch hours on DuckDB. Raw is where the RawObjects passed
// to BuildHour live; TempDir (default os.TempDir) holds the Parquet
// objects of an S3 store while an hour is built.
type Engine struct {
	Raw     storage.Store
	TempDir string
}

// rawTable is the DuckDB table the statement reads, with the raw events'
// columns (glue.RawEvents) the batch view and its verdicts use, and the
// partition.
const rawTable = `CREATE TEMP TABLE raw_events (
  event_id VARCHAR, event_type VARCHAR, user_id VARCHAR, session_id VARCHAR, source VARCHAR,
  event_time TIMESTAMP, received_time TIMESTAMP, value DOUBLE, attributes MAP(VARCHAR, VARCHAR),
  dt VARCHAR, hour VARCHAR)`

// trinoBridge defines the Trino functions of the statement that DuckDB
// names otherwise. length(to_utf8(x)) counts bytes in Trino; DuckDB has no
// length of a BLOB, so that one form is rewritten to strlen(x).
var trinoBridge = []string{
	`CREATE TEMP MACRO regexp_like(s, p) AS regexp_matches(s, p)`,
	`CREATE TEMP MACRO is_finite(x) AS isfinite(x)`,
}

// DuckDBSQL turns the Trino statement into the one DuckDB runs: the
// HyperLogLog forms (duckhll.Rewrite), length(to_utf8(x)) → strlen(x) and
// cardinality(filter(…)) → len(filter(…)) (DuckDB's cardinality takes a
// map only, Trino's an array too).
func DuckDBSQL(stmt string) (string, error) {
	out, err := duckhll.Rewrite(stmt)
	if err != nil {
		return "", err
	}
	return strings.NewReplacer("length(to_utf8(", "strlen((", "cardinality(filter(", "len(filter(").Replace(out), nil
}

// BuildHour loads the hour's objects and runs the batch view statement.
func (e *Engine) BuildHour(ctx context.Context, hour time.Time, objs []batch.RawObject) (*batch.HourResult, error) {
	conn, closeDB, err := open(ctx)
	if err != nil {
		return nil, err
	}
	defer closeDB()
	res := &batch.HourResult{Bad: map[string]int64{}}
	if err := e.load(ctx, conn, "raw_events", hour, objs, res); err != nil {
		return nil, err
	}

	// Verdicts of the rows in the table (NDJSON lines the parser rejected
	// are already counted).
	vq, err := DuckDBSQL(batch.HourVerdictsSQL("raw_events", hour))
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, vq)
	if err != nil {
		return nil, fmt.Errorf("counting the verdicts of hour %s: %w", hour.Format(time.RFC3339), err)
	}
	for rows.Next() {
		var reason sql.NullString
		var n int64
		if err := rows.Scan(&reason, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading the verdicts of hour %s: %w", hour.Format(time.RFC3339), err)
		}
		res.Records += n
		if reason.Valid {
			res.Bad[reason.String] += n
		} else {
			res.Valid += n
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("counting the verdicts of hour %s: %w", hour.Format(time.RFC3339), err)
	}

	q, err := DuckDBSQL(batch.HourSQL("raw_events", hour))
	if err != nil {
		return nil, err
	}
	rows, err = conn.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("building hour %s on DuckDB: %w", hour.Format(time.RFC3339), err)
	}
	defer rows.Close()
	var events int64
	for rows.Next() {
		var r views.Row
		if err := rows.Scan(&r.WindowStart, &r.EventType, &r.Source, &r.Events, &r.Users, &r.UsersSketch, &r.ValueSum); err != nil {
			return nil, fmt.Errorf("reading hour %s from DuckDB: %w", hour.Format(time.RFC3339), err)
		}
		r.WindowStart = r.WindowStart.UTC()
		events += r.Events
		res.Rows = append(res.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("building hour %s on DuckDB: %w", hour.Format(time.RFC3339), err)
	}
	sort.Slice(res.Rows, func(i, j int) bool { return res.Rows[i].Key().Less(res.Rows[j].Key()) })
	res.Duplicates = res.Valid - events
	if len(res.Bad) == 0 {
		res.Bad = nil
	}
	return res, nil
}

// load fills table with the hour's objects, counting bytes, rejected
// NDJSON lines and unreadable objects in res.
func (e *Engine) load(ctx context.Context, conn *sql.Conn, table string, hour time.Time, objs []batch.RawObject, res *batch.HourResult) error {
	dir, err := os.MkdirTemp(e.TempDir, "batchsql-")
	if err != nil {
		return fmt.Errorf("making the sql engine's scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	dt, hh := hour.UTC().Format("2006-01-02"), hour.UTC().Format("15")
	for i, o := range objs {
		data, err := storage.ReadAll(ctx, e.Raw, o.Key)
		if err != nil {
			return fmt.Errorf("reading raw object: %w", err)
		}
		res.Bytes += int64(len(data))
		name := storage.Join(e.Raw.Location(), o.Key)
		if bytes.HasPrefix(data, []byte("PAR1")) {
			path := filepath.Join(dir, fmt.Sprintf("%06d.parquet", i))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				return fmt.Errorf("staging %s for DuckDB: %w", name, err)
			}
			if err := loadParquet(ctx, conn, table, path, dt, hh); err != nil {
				res.Bad[batch.ReasonUnreadable]++ // as the Go engine: count it, keep going
			}
			continue
		}
		if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
			if data, err = gunzip(data); err != nil {
				res.Bad[batch.ReasonUnreadable]++
				continue
			}
		}
		n, err := loadNDJSON(conn, table, data, dt, hh, res.Bad)
		if err != nil {
			return fmt.Errorf("loading %s into DuckDB: %w", name, err)
		}
		res.Records += n
	}
	return nil
}

// Unload runs a Trino statement over the hour's raw objects, loaded as
// schema.raw_events, and writes its result as Parquet to path: what
// Athena's UNLOAD of the statement does, for tests of the athena engine.
func (e *Engine) Unload(ctx context.Context, hour time.Time, objs []batch.RawObject, schema, stmt, path string) error {
	conn, closeDB, err := open(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	table := `"` + schema + `".raw_events`
	for _, q := range []string{`CREATE SCHEMA "` + schema + `"`, strings.Replace(rawTable, "raw_events", table, 1)} {
		if _, err := conn.ExecContext(ctx, strings.Replace(q, "CREATE TEMP TABLE", "CREATE TABLE", 1)); err != nil {
			return fmt.Errorf("preparing DuckDB: %w", err)
		}
	}
	res := &batch.HourResult{Bad: map[string]int64{}}
	if err := e.load(ctx, conn, table, hour, objs, res); err != nil {
		return err
	}
	q, err := DuckDBSQL(stmt)
	if err != nil {
		return err
	}
	copyStmt := "COPY (" + q + ") TO '" + strings.ReplaceAll(path, "'", "''") + "' (FORMAT PARQUET, COMPRESSION SNAPPY)"
	if _, err := conn.ExecContext(ctx, copyStmt); err != nil {
		return fmt.Errorf("running the statement on DuckDB: %w", err)
	}
	return nil
}

// open starts an in-memory DuckDB with the UTC time zone, the HyperLogLog
// functions, the Trino bridge and the raw_events table.
func open(ctx context.Context) (*sql.Conn, func(), error) {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("starting DuckDB: %w", err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connecting to DuckDB: %w", err)
	}
	closeAll := func() { conn.Close(); db.Close() }
	if err := duckhll.Register(conn); err != nil {
		closeAll()
		return nil, nil, err
	}
	for _, stmt := range append([]string{`SET TimeZone = 'UTC'`, rawTable}, trinoBridge...) {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("preparing DuckDB (%s): %w", stmt, err)
		}
	}
	return conn, closeAll, nil
}

// rawColumns are the raw_events columns read from a Parquet file.
var rawColumns = []string{"event_id", "event_type", "user_id", "session_id", "source", "event_time", "received_time", "value", "attributes"}

// loadParquet inserts one Parquet file's rows; a column the file does not
// have is NULL.
func loadParquet(ctx context.Context, conn *sql.Conn, table, path, dt, hour string) error {
	src := "read_parquet('" + strings.ReplaceAll(path, "'", "''") + "')"
	rows, err := conn.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "+src+")")
	if err != nil {
		return err
	}
	has := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			rows.Close()
			return err
		}
		has[name] = typ
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	var sel []string
	for _, c := range rawColumns {
		if _, ok := has[c]; ok {
			sel = append(sel, `"`+c+`"`)
		} else {
			sel = append(sel, "NULL")
		}
	}
	_, err = conn.ExecContext(ctx, "INSERT INTO "+table+" SELECT "+strings.Join(sel, ", ")+", '"+dt+"', '"+hour+"' FROM "+src)
	return err
}

// loadNDJSON appends the lines the event parser accepts and counts the
// others by reason; it returns the number of rejected lines.
func loadNDJSON(conn *sql.Conn, table string, data []byte, dt, hour string, bad map[string]int64) (int64, error) {
	var rejected int64
	err := conn.Raw(func(dc any) error {
		schema, name := "", table
		if i := strings.LastIndex(table, "."); i >= 0 {
			schema, name = strings.Trim(table[:i], `"`), table[i+1:]
		}
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), schema, name)
		if err != nil {
			return err
		}
		for len(data) > 0 {
			var line []byte
			var blank bool
			if line, data, blank = batch.NextLine(data); blank {
				continue
			}
			ev, err := event.ParseEnrichedLean(line)
			if err != nil {
				var rej *event.Rejection
				if errors.As(err, &rej) {
					bad[string(rej.Reason)]++
				} else {
					bad[string(event.ReasonInvalidJSON)]++
				}
				rejected++
				continue
			}
			var value driver.Value
			if ev.HasValue {
				value = ev.Value
			}
			// attributes stays NULL: the parser checked them (the lean
			// event does not keep them) and the view does not use them.
			if err := app.AppendRow(ev.EventID, ev.EventType, ev.UserID, ev.SessionID, ev.Source, ev.EventTime.UTC(), ev.ReceivedTime.UTC(), value, nil, dt, hour); err != nil {
				app.Close()
				return err
			}
		}
		return app.Close()
	})
	return rejected, err
}

func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	return out, zr.Close()
}
