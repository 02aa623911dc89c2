-- Conveyor 008: group modes, group lock timeouts, and the workers each process runs.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- How a job of a group waits for its group: 'fifo' after every earlier job of the group (even one
-- waiting out a backoff), 'release' only while another job of the group runs. Jobs without a group
-- keep 'fifo'. A constant default: adding the column rewrites no row; the checks are NOT VALID, so
-- existing rows (all of them pass) are not scanned under the ALTER's exclusive lock.
ALTER TABLE :schema.jobs ADD COLUMN group_mode text NOT NULL DEFAULT 'fifo';
ALTER TABLE :schema.jobs ADD CONSTRAINT jobs_group_mode_valid CHECK (group_mode IN ('fifo', 'release')) NOT VALID;

-- Once a job has run this long (from attempted_at), it no longer holds its group (NULL: while it runs).
ALTER TABLE :schema.jobs ADD COLUMN group_lock_timeout_ms integer;
ALTER TABLE :schema.jobs ADD CONSTRAINT jobs_group_lock_timeout_positive
  CHECK (group_lock_timeout_ms IS NULL OR group_lock_timeout_ms >= 1) NOT VALID;

-- The running jobs of each group: whether a group is held is one probe of this small index, not a
-- walk over every waiting job of the group.
CREATE INDEX jobs_group_running_idx ON :schema.jobs (group_key)
  WHERE group_key IS NOT NULL AND state = 'running';

-- The workers of each process, written when it starts: [{ "queues": [...], "capacity": n,
-- "oversized": "alone" | "refuse" }]. NULL for processes of older versions (they take any weight).
ALTER TABLE :schema.processes ADD COLUMN workers jsonb;

-- Whether job `p_job_id` of group `p_group_key` may start now (see 001's three-argument version,
-- which this one replaces in claims): under the group's transaction-level advisory lock, with a fresh
-- snapshot, no other job of the group holds it. A running job holds its group until it has run for its
-- own group_lock_timeout_ms at `p_now`; a waiting job with a smaller id holds it only for a 'fifo'
-- job (`p_release` false).
CREATE FUNCTION :schema.claim_group_turn(
  p_lock_space integer, p_group_key text, p_job_id bigint, p_release boolean, p_now timestamptz
)
  RETURNS boolean
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN false;
  END IF;
  IF EXISTS (
    SELECT 1
    FROM :schema.jobs g
    WHERE g.group_key = p_group_key
      AND g.state = 'running'
      AND g.id <> p_job_id
      AND (g.group_lock_timeout_ms IS NULL
        OR g.attempted_at + g.group_lock_timeout_ms * interval '1 millisecond' > p_now)
  ) THEN
    RETURN false;
  END IF;
  RETURN p_release OR NOT EXISTS (
    SELECT 1
    FROM :schema.jobs g
    WHERE g.group_key = p_group_key
      AND g.state IN ('scheduled', 'available', 'retryable')
      AND g.id < p_job_id
  );
END
$$;
