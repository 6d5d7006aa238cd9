-- name: rejected_by_reason
-- description: Rejected (quarantined) records per day and reason code, from the errors table.
SELECT
  dt AS day,
  reason_code AS reason,
  COUNT(*) AS records
FROM errors
GROUP BY dt, reason_code
ORDER BY dt, reason_code
