-- name: active_users_per_day
-- description: Daily, weekly and monthly active users for every day since a day: distinct users over each day (dau), the 7 days (wau) and the 30 days (mau) ending on it, merged in SQL from the merged view's day sketches (the QuickSight active-users data set runs this).
-- param: since dt=today-30 first day reported, YYYY-MM-DD or today-N (UTC)
-- param: since
WITH params AS (SELECT CAST(? AS date) AS since),
per_day AS (
  SELECT CAST(m.dt AS date) AS d, CAST(merge(CAST(m.users_sketch AS HyperLogLog)) AS varbinary) AS s
  FROM merged_view m
  WHERE m.granularity = 'day'
    AND m.dt >= CAST(CAST(CAST(? AS date) - INTERVAL '29' DAY AS date) AS varchar)
  GROUP BY 1
)
SELECT
  c.d AS day,
  cardinality(merge(CAST(CASE WHEN p.d = c.d THEN p.s END AS HyperLogLog))) AS dau,
  cardinality(merge(CAST(CASE WHEN p.d > c.d - INTERVAL '7' DAY THEN p.s END AS HyperLogLog))) AS wau,
  cardinality(merge(CAST(p.s AS HyperLogLog))) AS mau
FROM per_day c
CROSS JOIN params x
JOIN per_day p ON p.d <= c.d AND p.d > c.d - INTERVAL '30' DAY
WHERE c.d >= x.since
GROUP BY c.d
ORDER BY c.d
