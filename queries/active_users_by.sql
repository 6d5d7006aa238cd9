-- name: active_users_by
-- description: Distinct users per source or per event type (dimension) over the days from since to until, each user counted once over the whole range, merged in SQL from the merged view's day sketches.
-- param: dimension choice:source|event_type=source what to count by: source or event_type
-- param: since dt=today-7 first day counted, YYYY-MM-DD or today-N (UTC)
-- param: until dt=today-1 last day counted, YYYY-MM-DD or today-N (UTC)
WITH params AS (SELECT ? AS dimension)
SELECT
  CASE WHEN p.dimension = 'event_type' THEN m.event_type ELSE m.source END AS value,
  cardinality(merge(CAST(m.users_sketch AS HyperLogLog))) AS users
FROM merged_view m
CROSS JOIN params p
WHERE m.granularity = 'day'
  AND m.dt >= ?
  AND m.dt <= ?
GROUP BY 1
ORDER BY users DESC, value
