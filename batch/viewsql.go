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
// (batchsql). A row another engine wrote may be bad, and is counted, never
// aggregated.
//
// The verdicts are event.CheckColumns' with its reason codes and limits:
// the first field breaking a rule in the contract's order (event_id,
// event_type, event_time, user_id, session_id, source, value, attributes,
// received_time), then the first missing required field, then future_time;
// wrong_hour, the batch reader's own, comes last, as in the Go reader.
// Times are compared at millisecond precision, as the event model holds
// them (date_trunc floors). not_utf8 has no branch: a varchar holds UTF-8
// only, so the statement never sees such a string. On the sql engine an
// NDJSON line with one is rejected not_utf8 by the Go parser before
// loading, and a Parquet object with one is refused by DuckDB and counted
// unreadable whole; on Athena it is up to Athena's Parquet reader.
//
// Placeholders: {{table}} the raw events relation, {{dt}} and {{hour}} its
// partition, {{window_start}} the hour as 'YYYY-MM-DD HH:00:00' (UTC); the
// others are the event package's limits and reason codes (fillSQL).
const verdictsSQL = `WITH hour_rows AS (
  SELECT event_id, event_type, user_id, session_id, source, event_time, received_time, value, attributes
  FROM {{table}}
  WHERE dt = '{{dt}}' AND hour = '{{hour}}'
),
verdicts AS (
  SELECT *,
    CASE
      WHEN length(to_utf8(event_id)) NOT BETWEEN 1 AND {{max_event_id}} THEN '{{bad_value}}'
      WHEN NOT regexp_like(event_type, '\A[a-z][a-z0-9_.-]{0,{{max_type_tail}}}\z') THEN '{{bad_value}}'
      WHEN event_time < TIMESTAMP '{{min_time}}' OR event_time > TIMESTAMP '{{max_time}}' THEN '{{bad_value}}'
      WHEN length(to_utf8(user_id)) NOT BETWEEN 1 AND {{max_user_id}} THEN '{{bad_value}}'
      WHEN length(to_utf8(session_id)) > {{max_session}} THEN '{{bad_value}}'
      WHEN length(to_utf8(source)) > {{max_source}} THEN '{{bad_value}}'
      WHEN NOT is_finite(value) THEN '{{bad_value}}'
      WHEN cardinality(filter(map_values(attributes), v -> v IS NULL)) > 0 THEN '{{bad_type}}'
      WHEN cardinality(attributes) > {{max_attributes}} THEN '{{bad_value}}'
      WHEN received_time < TIMESTAMP '{{min_time}}' OR received_time > TIMESTAMP '{{max_time}}' THEN '{{bad_value}}'
      WHEN event_id IS NULL OR event_type IS NULL OR event_time IS NULL OR user_id IS NULL
        OR received_time IS NULL THEN '{{missing_field}}'
      WHEN date_trunc('millisecond', event_time)
        > date_trunc('millisecond', received_time) + INTERVAL '{{max_skew_seconds}}' SECOND THEN '{{future_time}}'
      WHEN event_time < TIMESTAMP '{{window_start}}'
        OR event_time >= TIMESTAMP '{{window_start}}' + INTERVAL '1' HOUR THEN '{{wrong_hour}}'
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

// sqlTimeLayout writes a TIMESTAMP literal to the microsecond.
const sqlTimeLayout = "2006-01-02 15:04:05.000000"

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
		"{{max_session}}", fmt.Sprint(event.MaxSessionBytes),
		"{{max_attributes}}", fmt.Sprint(event.MaxAttributes),
		"{{bad_type}}", string(event.ReasonBadType),
		"{{future_time}}", string(event.ReasonFutureTime),
		"{{max_skew_seconds}}", fmt.Sprint(event.MaxFutureSkew.Seconds()),
		"{{min_time}}", time.UnixMilli(event.MinTimeMillis).UTC().Format(sqlTimeLayout),
		// The last microsecond of the last millisecond of the event model.
		"{{max_time}}", time.UnixMilli(event.MaxTimeMillis+1).Add(-time.Microsecond).UTC().Format(sqlTimeLayout),
	).Replace(stmt)
}
