-- Events per hour by event type and layer over the last 7 days, from the
-- serving view (batch before the watermark, speed from it on).
SELECT window_start,
       event_type,
       layer,
       SUM(events) AS events,
       SUM(value_sum) AS value_sum
FROM merged_view
WHERE granularity = 'hour'
  AND dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d')
GROUP BY window_start, event_type, layer
ORDER BY window_start, event_type, layer
