-- name: active_users
-- description: Daily, weekly and monthly active users on a day: distinct users over that day (dau), the 7 days (wau) and the 30 days (mau) ending on it, over all event types and sources, merged in SQL from the merged view's day sketches (each user counted once per range).
-- param: day dt=today-1 the day, YYYY-MM-DD or today-N (UTC)
-- param: day
-- param: day
WITH params AS (SELECT CAST(? AS date) AS day),
day_rows AS (
  SELECT CAST(m.dt AS date) AS d, m.users_sketch
  FROM merged_view m
  WHERE m.granularity = 'day'
    AND m.dt >= CAST(CAST(CAST(? AS date) - INTERVAL '29' DAY AS date) AS varchar)
    AND m.dt <= ?
)
SELECT
  p.day AS day,
  COALESCE(cardinality(merge(CAST(CASE WHEN r.d = p.day THEN r.users_sketch END AS HyperLogLog))), 0) AS dau,
  COALESCE(cardinality(merge(CAST(CASE WHEN r.d > p.day - INTERVAL '7' DAY THEN r.users_sketch END AS HyperLogLog))), 0) AS wau,
  COALESCE(cardinality(merge(CAST(r.users_sketch AS HyperLogLog))), 0) AS mau
FROM params p
LEFT JOIN day_rows r ON true
GROUP BY p.day
