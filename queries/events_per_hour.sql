-- name: events_per_hour
-- description: Events per hour by event type and layer, from the merged (batch + speed) view, since a day (the last 7 days by default).
-- param: since dt=today-7 first day counted, YYYY-MM-DD or today-N (UTC)
SELECT
  window_start,
  event_type,
  layer,
  SUM(events) AS events,
  SUM(value_sum) AS value_sum
FROM merged_view
WHERE granularity = 'hour'
  AND dt >= ?
GROUP BY window_start, event_type, layer
ORDER BY window_start, event_type, layer
