-- name: users_per_day_by_source
-- description: Distinct users per day and source over all event types, and over all sources (source '*'), from the users view's day rows, since a day (the last 30 days by default).
-- param: since dt=today-30 first day counted, YYYY-MM-DD or today-N (UTC)
SELECT
  window_start AS day,
  source,
  users,
  layer
FROM users_view
WHERE granularity = 'day'
  AND dt >= ?
  AND event_type = '*'
ORDER BY window_start, source
