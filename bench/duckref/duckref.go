// Package duckref holds the DuckDB reference of the batch benchmarks: the
// hourly batch view in DuckDB's own SQL, for bench/batchview and
// bench/engines.
package duckref

// ViewQuery is the batch view in DuckDB: dedup by (hour, event_id), then
// per (hour, event_type, source) the count, an approximate distinct user
// count and the value sum. %s is the scan of the raw events.
const ViewQuery = `
WITH dedup AS (
  SELECT date_trunc('hour', event_time) AS window_start, event_id,
         any_value(event_type) AS event_type, any_value(coalesce(source, 'unknown')) AS source,
         any_value(user_id) AS user_id, any_value(coalesce(value, 0)) AS value
  FROM %s GROUP BY ALL)
SELECT window_start, event_type, source, count(*) AS events,
       approx_count_distinct(user_id) AS users, sum(value) AS value_sum
FROM dedup GROUP BY ALL`
