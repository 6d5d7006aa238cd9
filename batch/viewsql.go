package batch

import (
	"fmt"
	"strings"
	"time"

	"github.com/lambdastack/lambdastack/internal/event"
)

// The batch view of one hour, written once in the Trino dialect (the
// subset DuckDB runs too, plus Trino's HyperLogLog forms). Athena runs it
// as is over the raw_events table; the sql engine runs it on DuckDB after
// duckhll.Rewrite and the few Trino functions DuckDB names otherwise
// (batchsql). The verdicts are the Parquet reader's, in its order, with the
// event package's reason codes and limits: a row another engine wrote may
// be bad, and is counted, never aggregated.
//
// Placeholders: {{table}} the raw events relation, {{dt}} and {{hour}} its
// partition, {{window_start}} the hour as 'YYYY-MM-DD HH:00:00' (UTC).
const verdictsSQL = `WITH hour_rows AS (
  SELECT event_id, event_type, user_id, source, event_time, received_time, value
  FROM {{table}}
  WHERE dt = '{{dt}}' AND hour = '{{hour}}'
),
verdicts AS (
  SELECT *,
    CASE
      WHEN event_id IS NULL THEN '{{missing_field}}'
      WHEN length(to_utf8(event_id)) NOT BETWEEN 1 AND {{max_event_id}} THEN '{{bad_value}}'
      WHEN event_type IS NULL THEN '{{missing_field}}'
      WHEN NOT regexp_like(event_type, '\A[a-z][a-z0-9_.-]{0,{{max_type_tail}}}\z') THEN '{{bad_value}}'
      WHEN user_id IS NULL THEN '{{missing_field}}'
      WHEN length(to_utf8(user_id)) NOT BETWEEN 1 AND {{max_user_id}} THEN '{{bad_value}}'
      WHEN event_time IS NULL THEN '{{missing_field}}'
      WHEN event_time < TIMESTAMP '{{window_start}}'
        OR event_time >= TIMESTAMP '{{window_start}}' + INTERVAL '1' HOUR THEN '{{wrong_hour}}'
      WHEN length(to_utf8(source)) > {{max_source}} THEN '{{bad_value}}'
      WHEN value IS NOT NULL AND NOT is_finite(value) THEN '{{bad_value}}'
    END AS reason
  FROM hour_rows
)`

// hourViewSQL deduplicates the valid rows per event_id (the hour is fixed),
// keeping the first received, and aggregates per (event_type, source).
const hourViewSQL = verdictsSQL + `,
deduped AS (
  SELECT event_type, coalesce(nullif(source, ''), '{{unknown}}') AS source, user_id, coalesce(value, 0) AS value,
    row_number() OVER (PARTITION BY event_id
      ORDER BY received_time, event_type, source, user_id, value) AS nth
  FROM verdicts
  WHERE reason IS NULL
)
SELECT TIMESTAMP '{{window_start}}' AS window_start, event_type, source,
  count(*) AS events,
  cardinality(approx_set(user_id)) AS users,
  CAST(approx_set(user_id) AS varbinary) AS users_sketch,
  sum(value) AS value_sum
FROM deduped
WHERE nth = 1
GROUP BY event_type, source`

// hourVerdictsSQL counts the hour's rows by verdict: reason NULL for the
// valid ones.
const hourVerdictsSQL = verdictsSQL + `
SELECT reason, count(*) AS n FROM verdicts GROUP BY reason`

// HourSQL is the batch view statement of hour (UTC) over table.
func HourSQL(table string, hour time.Time) string { return fillSQL(hourViewSQL, table, hour) }

// HourVerdictsSQL is the statement counting hour's raw rows by reason.
func HourVerdictsSQL(table string, hour time.Time) string {
	return fillSQL(hourVerdictsSQL, table, hour)
}

// UnloadSQL wraps HourSQL in an Athena UNLOAD writing snappy Parquet
// under to (an s3:// prefix ending in '/'). The statement writes no
// partitions, far below Athena's 100 per statement.
func UnloadSQL(table string, hour time.Time, to string) string {
	return fmt.Sprintf("UNLOAD (\n%s\n) TO '%s' WITH (format = 'PARQUET', compression = 'SNAPPY')",
		HourSQL(table, hour), strings.ReplaceAll(to, "'", "''"))
}

func fillSQL(stmt, table string, hour time.Time) string {
	h := hour.UTC().Truncate(time.Hour)
	return strings.NewReplacer(
		"{{table}}", table,
		"{{dt}}", h.Format("2006-01-02"),
		"{{hour}}", h.Format("15"),
		"{{window_start}}", h.Format("2006-01-02 15:04:05"),
		"{{missing_field}}", string(event.ReasonMissingField),
		"{{bad_value}}", string(event.ReasonBadValue),
		"{{wrong_hour}}", ReasonWrongHour,
		"{{unknown}}", event.DefaultSource,
		"{{max_event_id}}", fmt.Sprint(event.MaxEventIDBytes),
		"{{max_user_id}}", fmt.Sprint(event.MaxUserIDBytes),
		"{{max_source}}", fmt.Sprint(event.MaxSourceBytes),
		"{{max_type_tail}}", fmt.Sprint(event.MaxEventTypeLen-1),
	).Replace(stmt)
}
