-- Accounts whose root user has access keys, according to each organization's
-- latest report of today. "Today" is the UTC date, as in the date= partition.
--
-- Every scan writes one object, so "$path" identifies a report; its name ends
-- in the scan's UTC timestamp, so the greatest path of a day is its latest scan.
WITH today AS (
  SELECT *, "$path" AS report
  FROM orgscan_accounts
  WHERE scan_date = date_format(current_date, '%Y-%m-%d')
),
latest AS (
  SELECT org_id, max(report) AS report
  FROM today
  GROUP BY org_id
)
SELECT
  t.org_id,
  t.account_id,
  t.account_name,
  t.email,
  t.ou_path,
  t.access_method,
  t.findings,
  from_iso8601_timestamp(t.scanned_at) AS scanned_at,
  t.report
FROM today AS t
JOIN latest AS l
  ON t.org_id = l.org_id AND t.report = l.report
WHERE t.root_access_keys = true
ORDER BY t.org_id, t.account_id;
