-- Root access keys that appeared since the previous scan: accounts whose root
-- user has access keys in each organization's latest report but had none in
-- the report before it. "previously" says why an account is listed: it had no
-- keys, its previous row could not tell (an error, with its status), or it was
-- not in the previous report at all (it joined the organization since).
--
-- Only reports of the last 35 days are read, which bounds the data scanned;
-- widen the window if you scan less often than monthly.
WITH recent AS (
  SELECT
    org_id,
    "$path" AS report,
    account_id,
    account_name,
    email,
    ou_path,
    status,
    root_access_keys,
    scanned_at
  FROM orgscan_accounts
  WHERE scan_date >= date_format(current_date - INTERVAL '35' DAY, '%Y-%m-%d')
),
ranked AS (
  -- Report names end in the scan's UTC timestamp: newest first.
  SELECT
    org_id,
    report,
    row_number() OVER (PARTITION BY org_id ORDER BY report DESC) AS age
  FROM (SELECT DISTINCT org_id, report FROM recent)
),
pair AS (
  SELECT
    org_id,
    max(CASE WHEN age = 1 THEN report END) AS latest_report,
    max(CASE WHEN age = 2 THEN report END) AS previous_report
  FROM ranked
  WHERE age <= 2
  GROUP BY org_id
),
latest AS (
  SELECT r.*
  FROM recent AS r
  JOIN pair AS p ON r.org_id = p.org_id AND r.report = p.latest_report
),
previous AS (
  SELECT r.*
  FROM recent AS r
  JOIN pair AS p ON r.org_id = p.org_id AND r.report = p.previous_report
)
SELECT
  l.org_id,
  l.account_id,
  l.account_name,
  l.email,
  l.ou_path,
  CASE
    WHEN p.account_id IS NULL THEN 'not in the previous report'
    WHEN p.root_access_keys IS NULL THEN 'unknown in the previous report (' || p.status || ')'
    ELSE 'no root access keys'
  END AS previously,
  from_iso8601_timestamp(l.scanned_at) AS seen_at,
  pair.previous_report,
  pair.latest_report
FROM latest AS l
JOIN pair
  ON pair.org_id = l.org_id
LEFT JOIN previous AS p
  ON p.org_id = l.org_id AND p.account_id = l.account_id
WHERE pair.previous_report IS NOT NULL
  AND l.root_access_keys = true
  AND coalesce(p.root_access_keys, false) = false
ORDER BY l.org_id, l.account_id;
