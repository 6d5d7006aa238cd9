-- name: value_per_day
-- description: Sum of value (e.g. revenue) and events per day and event type, from the merged view's day rows.
SELECT
  window_start AS day,
  event_type,
  SUM(value_sum) AS value_sum,
  SUM(events) AS events
FROM merged_view
WHERE granularity = 'day'
GROUP BY window_start, event_type
ORDER BY window_start, event_type
