-- name: rejected_by_reason
-- description: Rejected (quarantined) records per day received and reason code, from the errors table, since a day (the last 30 days by default).
-- param: since dt=today-30 first day counted (day received), YYYY-MM-DD or today-N (UTC)
SELECT
  dt AS day,
  reason_code AS reason,
  COUNT(*) AS records
FROM errors
WHERE dt >= ?
GROUP BY dt, reason_code
ORDER BY dt, reason_code
