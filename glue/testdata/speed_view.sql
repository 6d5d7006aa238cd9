CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`speed_view` (
  `window_start` timestamp COMMENT 'start of the window, UTC',
  `event_type` string,
  `source` string,
  `events` bigint COMMENT 'number of distinct event_id in the window',
  `users` bigint COMMENT 'distinct user_id estimate: cardinality of users_sketch',
  `users_sketch` binary COMMENT 'HyperLogLog of user_id as approx_set makes it; merge with cardinality(merge(CAST(users_sketch AS HyperLogLog)))',
  `value_sum` double COMMENT 'sum of value',
  `event_fingerprints` array<bigint> COMMENT '64-bit fingerprints of the event_ids counted',
  `event_values` array<double> COMMENT 'value of each fingerprinted event (0 when absent)'
)
COMMENT 'Speed layer: per-batch aggregates from the stream, with the fingerprints of the events counted.'
PARTITIONED BY (
  `dt` string COMMENT 'UTC date of event_time, YYYY-MM-DD',
  `hour` string COMMENT 'UTC hour of event_time, 00-23'
)
STORED AS PARQUET
LOCATION 's3://raw-bucket/speed/'
TBLPROPERTIES (
  'classification'='parquet',
  'parquet.compression'='SNAPPY',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.type'='date',
  'projection.enabled'='true',
  'projection.hour.digits'='2',
  'projection.hour.range'='0,23',
  'projection.hour.type'='integer',
  'storage.location.template'='s3://raw-bucket/speed/dt=${dt}/hour=${hour}/'
)
