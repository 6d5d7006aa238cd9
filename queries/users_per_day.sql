-- name: users_per_day
-- description: Distinct users per day, over all event types (event_type '*': daily active users) and per event type, each user counted once across sources, from the users view's day rows, since a day (the last 30 days by default).
-- param: since dt=today-30 first day counted, YYYY-MM-DD or today-N (UTC)
SELECT
  window_start AS day,
  event_type,
  users,
  layer
FROM users_view
WHERE granularity = 'day'
  AND dt >= ?
  AND source = '*'
ORDER BY window_start, event_type
