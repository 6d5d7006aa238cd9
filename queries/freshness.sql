-- name: freshness
-- description: How fresh the serving view is: the batch watermark, the newest hour, and now minus the watermark in seconds.
-- param: now timestamp the time to measure from, UTC (default: the current time)
-- param: since dt=today-7 first day read (all NULL when no hour row is that recent), YYYY-MM-DD or today-N (UTC, counted from now)
WITH params AS (SELECT ? AS now_ts)
SELECT
  MAX(m.watermark) AS watermark,
  MAX(m.window_start) AS newest_hour,
  date_diff('second', MAX(m.watermark), MAX(p.now_ts)) AS lag_seconds
FROM merged_view m
CROSS JOIN params p
WHERE m.granularity = 'hour'
  AND m.dt >= ?
