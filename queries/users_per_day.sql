-- name: users_per_day
-- description: Distinct users per day and event type: the HyperLogLog estimates of the merged view's day rows, added over sources and layers, since a day (the last 30 days by default).
-- param: since dt=today-30 first day counted, YYYY-MM-DD or today-N (UTC)
SELECT
  window_start AS day,
  event_type,
  SUM(users) AS users,
  SUM(events) AS events
FROM merged_view
WHERE granularity = 'day'
  AND dt >= ?
GROUP BY window_start, event_type
ORDER BY window_start, event_type
