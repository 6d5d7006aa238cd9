-- name: raw_events_hour
-- description: Drill-down: the raw (accepted, not deduplicated) events of one hour, oldest first, at most 1000.
-- param: dt dt the day, YYYY-MM-DD (UTC)
-- param: hour hour the hour of the day, 00-23 (UTC)
SELECT
  event_id,
  event_type,
  event_time,
  user_id,
  session_id,
  source,
  value,
  received_time
FROM raw_events
WHERE dt = ?
  AND hour = ?
ORDER BY event_time, event_id, received_time
LIMIT 1000
