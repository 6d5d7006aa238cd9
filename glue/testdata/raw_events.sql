CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`raw_events` (
  `event_id` string,
  `event_type` string,
  `event_time` timestamp,
  `user_id` string,
  `session_id` string,
  `source` string,
  `value` double,
  `attributes` map<string,string>,
  `received_time` timestamp
)
COMMENT 'Validated, enriched events as the Firehose transform writes them (gzip NDJSON).'
PARTITIONED BY (
  `dt` string COMMENT 'UTC date of event_time, YYYY-MM-DD',
  `hour` string COMMENT 'UTC hour of event_time, 00-23'
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
STORED AS TEXTFILE
LOCATION 's3://raw-bucket/events/'
TBLPROPERTIES (
  'classification'='json',
  'projection.dt.format'='yyyy-MM-dd',
  'projection.dt.interval'='1',
  'projection.dt.interval.unit'='DAYS',
  'projection.dt.range'='2020-01-01,NOW',
  'projection.dt.type'='date',
  'projection.enabled'='true',
  'projection.hour.digits'='2',
  'projection.hour.range'='0,23',
  'projection.hour.type'='integer',
  'storage.location.template'='s3://raw-bucket/events/dt=${dt}/hour=${hour}/'
)
