CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`raw_events` (
  `event_id` string COMMENT 'dedup key',
  `event_type` string,
  `user_id` string,
  `session_id` string,
  `source` string,
  `event_time` timestamp,
  `received_time` timestamp,
  `value` double,
  `attributes` map<string,string>
)
COMMENT 'Validated, enriched events as Firehose delivers them (NDJSON, gzip)'
PARTITIONED BY (
  `dt` string COMMENT 'UTC day of window_start or event_time, YYYY-MM-DD',
  `hour` string COMMENT 'UTC hour, 00-23'
)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
WITH SERDEPROPERTIES (
  'timestamp.formats' = 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ,yyyy-MM-dd''T''HH:mm:ssZZ'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://example-raw/events/'
TBLPROPERTIES (
  'classification' = 'json',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.dt.range' = '2020-01-01,NOW+1DAYS',
  'projection.dt.type' = 'date',
  'projection.enabled' = 'true',
  'projection.hour.digits' = '2',
  'projection.hour.range' = '0,23',
  'projection.hour.type' = 'integer',
  'storage.location.template' = 's3://example-raw/events/dt=${dt}/hour=${hour}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`raw_errors` (
  `detail` string COMMENT 'what was wrong, for a human',
  `received_time` timestamp,
  `record` string COMMENT 'the original record'
)
COMMENT 'Rejected records with their reason (NDJSON error envelopes, gzip)'
PARTITIONED BY (
  `reason` string COMMENT 'rejection reason code',
  `dt` string COMMENT 'UTC day of window_start or event_time, YYYY-MM-DD'
)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
WITH SERDEPROPERTIES (
  'timestamp.formats' = 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ,yyyy-MM-dd''T''HH:mm:ssZZ'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://example-raw/errors/'
TBLPROPERTIES (
  'classification' = 'json',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.dt.range' = '2020-01-01,NOW+1DAYS',
  'projection.dt.type' = 'date',
  'projection.enabled' = 'true',
  'projection.reason.type' = 'enum',
  'projection.reason.values' = 'invalid_json,not_utf8,too_large,missing_field,bad_type,bad_value,future_time',
  'storage.location.template' = 's3://example-raw/errors/${reason}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`batch_view` (
  `window_start` timestamp COMMENT 'start of the window (UTC)',
  `event_type` string,
  `source` string,
  `events` bigint COMMENT 'distinct event_id in the window',
  `users` bigint COMMENT 'distinct user_id estimate',
  `users_sketch` binary COMMENT 'HyperLogLog sketch of user_id',
  `value_sum` double COMMENT 'sum of value'
)
COMMENT 'Batch view: exact aggregates per window, event_type and source'
PARTITIONED BY (
  `granularity` string COMMENT 'hour or day: the width of window_start',
  `dt` string COMMENT 'UTC day of window_start or event_time, YYYY-MM-DD'
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
WITH SERDEPROPERTIES (
  'serialization.format' = '1'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://example-views/batch/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'SNAPPY',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.dt.range' = '2020-01-01,NOW+1DAYS',
  'projection.dt.type' = 'date',
  'projection.enabled' = 'true',
  'projection.granularity.type' = 'enum',
  'projection.granularity.values' = 'hour,day',
  'storage.location.template' = 's3://example-views/batch/granularity=${granularity}/dt=${dt}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`speed_view` (
  `window_start` timestamp COMMENT 'start of the window (UTC)',
  `event_type` string,
  `source` string,
  `events` bigint COMMENT 'distinct event_id in the window',
  `users` bigint COMMENT 'distinct user_id estimate',
  `users_sketch` binary COMMENT 'HyperLogLog sketch of user_id',
  `value_sum` double COMMENT 'sum of value'
)
COMMENT 'Speed view: aggregates per Kinesis batch, minute-fresh'
PARTITIONED BY (
  `dt` string COMMENT 'UTC day of window_start or event_time, YYYY-MM-DD',
  `hour` string COMMENT 'UTC hour, 00-23'
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
WITH SERDEPROPERTIES (
  'serialization.format' = '1'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://example-views/speed/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'SNAPPY',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.dt.range' = '2020-01-01,NOW+1DAYS',
  'projection.dt.type' = 'date',
  'projection.enabled' = 'true',
  'projection.hour.digits' = '2',
  'projection.hour.range' = '0,23',
  'projection.hour.type' = 'integer',
  'storage.location.template' = 's3://example-views/speed/dt=${dt}/hour=${hour}/'
);

CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`merged_view` (
  `window_start` timestamp COMMENT 'start of the window (UTC)',
  `event_type` string,
  `source` string,
  `events` bigint COMMENT 'distinct event_id in the window',
  `users` bigint COMMENT 'distinct user_id estimate',
  `users_sketch` binary COMMENT 'HyperLogLog sketch of user_id',
  `value_sum` double COMMENT 'sum of value',
  `layer` string COMMENT 'batch or speed',
  `watermark` timestamp COMMENT 'batch covers everything before it, speed everything from it on'
)
COMMENT 'Serving view: batch view before the watermark, speed view from it on'
PARTITIONED BY (
  `granularity` string COMMENT 'hour or day: the width of window_start',
  `dt` string COMMENT 'UTC day of window_start or event_time, YYYY-MM-DD'
)
ROW FORMAT SERDE 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe'
WITH SERDEPROPERTIES (
  'serialization.format' = '1'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat'
LOCATION 's3://example-views/merged/'
TBLPROPERTIES (
  'classification' = 'parquet',
  'parquet.compression' = 'SNAPPY',
  'projection.dt.format' = 'yyyy-MM-dd',
  'projection.dt.interval' = '1',
  'projection.dt.interval.unit' = 'DAYS',
  'projection.dt.range' = '2020-01-01,NOW+1DAYS',
  'projection.dt.type' = 'date',
  'projection.enabled' = 'true',
  'projection.granularity.type' = 'enum',
  'projection.granularity.values' = 'hour,day',
  'storage.location.template' = 's3://example-views/merged/granularity=${granularity}/dt=${dt}/'
);

