-- name: top_event_types
-- description: The ten event types with the most events in the 24 hours before now, from the merged view's hour rows.
-- param: now timestamp end of the 24 hours, UTC (default: the current time)
-- param: since dt=today-1 first day read (the day before now covers the 24 hours), YYYY-MM-DD or today-N (UTC, counted from now)
WITH params AS (SELECT ? AS now_ts)
SELECT
  m.event_type,
  SUM(m.events) AS events,
  SUM(m.value_sum) AS value_sum
FROM merged_view m
CROSS JOIN params p
WHERE m.granularity = 'hour'
  AND m.dt >= ?
  AND m.window_start >= p.now_ts - INTERVAL '24' HOUR
  AND m.window_start < p.now_ts
GROUP BY m.event_type
ORDER BY events DESC, m.event_type
LIMIT 10
