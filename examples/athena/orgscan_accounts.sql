CREATE EXTERNAL TABLE IF NOT EXISTS orgscan_accounts (
  account_id                string,
  account_name              string,
  email                     string,
  ou_path                   string,
  state                     string,
  joined_method             string,
  joined_at                 string,
  access_method             string,
  root_access_keys          boolean,
  root_signing_certificates boolean,
  root_password             boolean,
  root_mfa                  boolean,
  findings                  array<string>,
  status                    string,
  error_code                string,
  error                     string,
  scanned_at                string,
  summary                   map<string,int>,
  root_credentials          struct<
    source: string,
    as_of: string,
    access_keys: array<struct<
      id: string,
      active: boolean,
      created_at: string,
      last_used_at: string,
      last_used_service: string,
      last_used_region: string>>,
    signing_certificates: array<struct<
      id: string,
      active: boolean,
      uploaded_at: string>>,
    mfa: struct<
      enabled: boolean,
      devices: array<struct<serial: string, type: string>>,
      virtual: boolean>,
    password: struct<
      present: boolean,
      last_used_at: string>>,
  details_error             struct<code: string, message: string>,
  tags                      map<string,string>,
  tags_error                struct<code: string, message: string>,
  security_contact          struct<name: string, email: string, title: string, phone: string>,
  security_contact_error    struct<code: string, message: string>
)
COMMENT 'orgscan: one row per account per scan, from the NDJSON reports'
PARTITIONED BY (
  org_id    string,
  scan_date string
)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
WITH SERDEPROPERTIES (
  'case.insensitive' = 'false',
  'ignore.malformed.json' = 'false'
)
STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://REPORTS_BUCKET/orgscan/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.org_id.type' = 'enum',
  'projection.org_id.values' = 'o-exampleorgid',
  'projection.scan_date.type' = 'date',
  'projection.scan_date.format' = 'yyyy-MM-dd',
  'projection.scan_date.range' = '2024-01-01,NOW',
  'projection.scan_date.interval' = '1',
  'projection.scan_date.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://REPORTS_BUCKET/orgscan/org=${org_id}/date=${scan_date}/'
);
