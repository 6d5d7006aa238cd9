CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`batch_view` (
  `window_start` timestamp COMMENT 'start of the window, UTC',
  `event_type` string,
  `source` string,
  `events` bigint COMMENT 'number of distinct event_id in the window',
  `users` bigint COMMENT 'distinct user_id estimate: cardinality of users_sketch',
  `users_sketch` binary COMMENT 'HyperLogLog of user_id as approx_set makes it; merge with cardinality(merge(CAST(users_sketch AS HyperLogLog)))',
  `value_sum` double COMMENT 'sum of value'
)
COMMENT 'Batch layer: exact aggregates from raw events, published up to the watermark.'
PARTITIONED BY (
  `granularity` string COMMENT 'window size: hour or day',
  `dt` string COMMENT 'UTC date of event_time, YYYY-MM-DD'
)
STORED AS PARQUET
LOCATION 's3://raw-bucket/batch/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.type'='date',
  'projection.enabled'='true',
  'projection.granularity.type'='enum',
  'projection.granularity.values'='hour,day',
  'storage.location.template'='s3://raw-bucket/batch/granularity=${granularity}/dt=${dt}/'
)
