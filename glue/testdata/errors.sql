CREATE EXTERNAL TABLE IF NOT EXISTS `lambdastack_dev`.`errors` (
  `reason` string COMMENT 'reason code, as in the path',
  `field` string COMMENT 'the field at fault, empty for whole-record reasons',
  `detail` string COMMENT 'what was wrong, for people',
  `received_time` timestamp,
  `record` string COMMENT 'the original record when it is UTF-8 text',
  `record_base64` string COMMENT 'the original record, base64, when it is not UTF-8'
)
COMMENT 'Rejected records, kept with their reason (quarantine).'
PARTITIONED BY (
  `reason_code` string COMMENT 'reason code from the path',
  `dt` string COMMENT 'UTC date the record was received, YYYY-MM-DD',
  `hour` string COMMENT 'UTC hour the record was received, 00-23'
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
STORED AS TEXTFILE
LOCATION 's3://raw-bucket/errors/'
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
  'projection.reason_code.type'='enum',
  'projection.reason_code.values'='invalid_json,not_utf8,too_large,missing_field,bad_type,bad_value,future_time,tombstone',
  'storage.location.template'='s3://raw-bucket/errors/${reason_code}/dt=${dt}/hour=${hour}/'
)
