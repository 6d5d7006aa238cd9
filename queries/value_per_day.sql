-- name: value_per_day
-- description: Sum of value (e.g. revenue) and events per day and event type, from the merged view's day rows, since a day (the last 30 days by default).
-- param: since dt=today-30 first day counted, YYYY-MM-DD or today-N (UTC)
SELECT
  window_start AS day,
  event_type,
  SUM(value_sum) AS value_sum,
  SUM(events) AS events
FROM merged_view
WHERE granularity = 'day'
  AND dt >= ?
GROUP BY window_start, event_type
ORDER BY window_start, event_type
