-- name: events_per_hour
-- description: Events per hour by event type and layer, from the merged (batch + speed) view.
SELECT
  window_start,
  event_type,
  layer,
  SUM(events) AS events,
  SUM(value_sum) AS value_sum
FROM merged_view
WHERE granularity = 'hour'
GROUP BY window_start, event_type, layer
ORDER BY window_start, event_type, layer
