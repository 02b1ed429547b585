-- zcc-events report figures by agent: each engagement with its final agent
-- (agent_user_id), named by the largest agent_display_name of the group's rows. A key
-- that is missing or empty is the group '-'. Same definitions as
-- shared/domain/src/report.rs: zcc report --json --by agent prints the same groups.
-- Parameters, in this order: 1 the first day and 2 the last day of the range,
-- inclusive, each a quoted string 'YYYY-MM-DD'; 3 the service-level threshold in
-- milliseconds (20000).
-- This text is the Athena named query by_agent in template.yaml, character for
-- character, and runs unchanged on Athena (engine version 3) and on DuckDB
-- (analytics/run_duckdb.py).
SELECT
  grp AS "group",
  MAX(grp_name) AS name,
  COUNT(*) AS offered,
  COALESCE(CAST(SUM(is_answered) AS BIGINT), 0) AS answered,
  COALESCE(CAST(SUM(is_abandoned) AS BIGINT), 0) AS abandoned,
  CASE WHEN COUNT(*) = 0 THEN CAST(0 AS DOUBLE)
    ELSE ROUND(CAST(SUM(is_abandoned) AS DOUBLE) / COUNT(*), 4) END AS abandon_rate,
  COALESCE(CAST(SUM(is_within_sla) AS BIGINT), 0) AS answered_within_sla,
  CASE WHEN COUNT(*) = 0 THEN CAST(0 AS DOUBLE)
    ELSE ROUND(CAST(SUM(is_within_sla) AS DOUBLE) / COUNT(*), 4) END AS service_level,
  CAST(ROUND(AVG(answer_time)) AS BIGINT) AS average_speed_of_answer_ms,
  CAST(ROUND(AVG(handle_time)) AS BIGINT) AS average_handle_ms,
  -- Nearest rank: the smallest handle time whose rank r among the group's n answered
  -- handle times has r >= 0.9 n, that is rank CEIL(0.9 n), in integer arithmetic.
  MIN(CASE WHEN 10 * handle_rank >= 9 * handle_count THEN handle_time END)
    AS p90_handle_ms,
  CAST(ROUND(AVG(talk_time)) AS BIGINT) AS average_talk_ms,
  CAST(ROUND(AVG(hold_time)) AS BIGINT) AS average_hold_ms,
  CAST(ROUND(AVG(wrap_up_time)) AS BIGINT) AS average_wrap_up_ms,
  COALESCE(CAST(SUM(transfer_count) AS BIGINT), 0) AS transfers,
  COALESCE(CAST(SUM(hold_count) AS BIGINT), 0) AS holds
FROM (
  -- Each answered engagement's handle time ranked within its group.
  SELECT
    engagement.*,
    ROW_NUMBER() OVER (PARTITION BY grp, has_handle ORDER BY handle_time)
      AS handle_rank,
    COUNT(handle_time) OVER (PARTITION BY grp) AS handle_count
  FROM (
    -- One line per engagement: what it counts toward (durations: the answered only).
    SELECT
      CASE WHEN agent_user_id IS NULL OR agent_user_id = '' THEN '-'
        ELSE agent_user_id END AS grp,
      agent_display_name AS grp_name,
      CASE WHEN answered_at IS NULL THEN 0 ELSE 1 END AS is_answered,
      CASE WHEN abandoned = true THEN 1 ELSE 0 END AS is_abandoned,
      CASE WHEN answered_at IS NOT NULL AND time_to_answer_ms <= sla.ms THEN 1 ELSE 0 END
        AS is_within_sla,
      CASE WHEN answered_at IS NOT NULL THEN time_to_answer_ms END AS answer_time,
      CASE WHEN answered_at IS NOT NULL THEN handle_ms END AS handle_time,
      CASE WHEN answered_at IS NOT NULL AND handle_ms IS NOT NULL THEN 1 ELSE 0 END
        AS has_handle,
      CASE WHEN answered_at IS NOT NULL THEN talk_ms END AS talk_time,
      CASE WHEN answered_at IS NOT NULL THEN total_hold_ms END AS hold_time,
      CASE WHEN answered_at IS NOT NULL THEN wrap_up_ms END AS wrap_up_time,
      transfer_count,
      hold_count
    FROM (
      -- The ended engagements of the range (parameters 1 and 2), each by its latest
      -- version.
      SELECT
        e.*,
        ROW_NUMBER() OVER (PARTITION BY engagement_id ORDER BY version DESC) AS latest
      FROM engagements e
      WHERE ended = true AND day BETWEEN ? AND ?
    ) v
    -- The service-level threshold in milliseconds (parameter 3).
    CROSS JOIN (SELECT CAST(? AS BIGINT) AS ms) sla
    WHERE v.latest = 1
  ) engagement
) ranked
GROUP BY grp
ORDER BY "group"
