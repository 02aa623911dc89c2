-- Conveyor 013: a `fifo` group adds only its next job to the claim index. Before, every waiting job
-- of a group sat in the claim index, and a claim that met a group's backlog checked each of its jobs
-- against the group: a group of 5,000 waiting jobs cost each claim tens of milliseconds once the
-- group was free, so the group ran at 14 jobs/s instead of about 200 (docs/storage.md, "A large
-- backlog in one group"). Now the first claim that meets a `fifo` job held back by its group sets it
-- aside (`group_behind`), and it leaves the claim index; the statements that end, cancel, delete,
-- pause or rescue a job of the group release the group's first job set aside once nothing holds it
-- back, and every rescue pass releases any that nothing holds back (a mark left by a process of the
-- previous version, whose statements release nothing; a job whose group only a lock timeout held).
-- The claim's group checks stay: a mark only keeps a job out of the claim's way, it never lets one run.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- A constant default: adding the column rewrites no row. The migration locks `jobs` alone (its
-- exclusive lock is held to the end, through the index builds below): a lock on `job_history` too
-- would deadlock with a completion of the previous version, which locks the history first. So the
-- history table does not get the column: a finished job waits for nothing.
ALTER TABLE :schema.jobs ADD COLUMN group_behind boolean NOT NULL DEFAULT false;

-- The claim indexes leave jobs set aside out. Processes of the previous version, whose claims do not
-- name the new condition, read `jobs_waiting_kind_idx` and sort until they are replaced.
DROP INDEX :schema.jobs_claim_priority_idx;
CREATE INDEX jobs_claim_priority_idx ON :schema.jobs (queue, priority, run_at, id)
  WHERE state IN ('scheduled', 'available', 'retryable') AND NOT group_behind;

DO $$
BEGIN
  IF to_regclass(':schema.jobs_claim_time_idx') IS NOT NULL THEN
    EXECUTE format('DROP INDEX %s.jobs_claim_time_idx', ':schema');
    EXECUTE format(
      'CREATE INDEX jobs_claim_time_idx ON %s.jobs (queue, run_at, id) WHERE state IN (%L, %L, %L) AND NOT group_behind',
      ':schema', 'scheduled', 'available', 'retryable');
  END IF;
END
$$;

-- The jobs set aside, by group: where a group's first one is found, and which groups the rescue
-- pass looks at. Only jobs set aside are in it, so an insert never writes it.
CREATE INDEX jobs_group_behind_idx ON :schema.jobs (group_key, id) WHERE group_behind;

-- Whether a `fifo` job of group `p_group_key` waits for an event, not for time: a job of its group
-- with a smaller id, waiting or running, with no group lock timeout. Such a job's end releases the
-- first job set aside after its id (release_group_behind), so only earlier jobs count: a job held back
-- by a later one running (an earlier id whose insert committed late) stays in the claim index. A job
-- that runs with a lock timeout holds its group only until the timeout runs out, a moment no
-- statement marks, so a job held back only by such jobs is never set aside either. Read with the
-- caller's snapshot: call it from a volatile function after taking the group's lock.
CREATE FUNCTION :schema.group_job_waits(p_group_key text, p_job_id bigint)
  RETURNS boolean
  LANGUAGE sql
  STABLE
AS $$
  SELECT EXISTS (
    SELECT 1 FROM :schema.jobs g
    WHERE g.group_key = p_group_key AND g.state IN ('scheduled', 'available', 'retryable') AND g.id < p_job_id
      AND g.group_lock_timeout_ms IS NULL
  ) OR EXISTS (
    SELECT 1 FROM :schema.jobs g
    WHERE g.group_key = p_group_key AND g.state = 'running' AND g.group_lock_timeout_ms IS NULL AND g.id < p_job_id
  )
$$;

-- Called by a claim for a `fifo` job its group holds back: under the group's advisory lock (tried,
-- never waited for: a claim waits for nothing) and with a fresh snapshot, sets the job aside when it
-- still waits for an event (group_job_waits) and no one else holds its row. Always false, so that it
-- can end the claim's condition on the job.
CREATE FUNCTION :schema.claim_group_behind(p_lock_space integer, p_group_key text, p_job_id bigint)
  RETURNS boolean
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN false;
  END IF;
  -- A statement of its own: its snapshot is taken once the lock is held.
  IF :schema.group_job_waits(p_group_key, p_job_id) THEN
    UPDATE :schema.jobs j SET group_behind = true
    WHERE j.id = (
      SELECT b.id FROM :schema.jobs b
      WHERE b.id = p_job_id AND b.state IN ('scheduled', 'available', 'retryable') AND NOT b.group_behind
        AND b.group_mode = 'fifo' AND b.group_key = p_group_key
      FOR UPDATE SKIP LOCKED
    );
  END IF;
  RETURN false;
END
$$;

-- Releases the first job set aside in group `p_group_key` after id `p_after_id` when nothing holds it
-- back any more (group_job_waits), under the group's advisory lock: waited for when `p_wait` (the
-- statements that end a job of the group; a claim holds it for one statement), else tried (the rescue
-- pass skips a busy group). The lock and the fresh snapshot after it are what make the release safe:
-- a claim sets a job aside only under the same lock, so a claim that set one aside has committed
-- before this looks, and one that comes after sees the ended job gone. Returns the job released
-- (`queue`, `priority`, `run_at`), if any, to be announced.
CREATE FUNCTION :schema.release_group_behind(
  p_lock_space integer, p_group_key text, p_after_id bigint, p_wait boolean
)
  RETURNS TABLE (queue text, priority smallint, run_at timestamptz)
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
  ROWS 1
AS $$
DECLARE
  v_id bigint;
BEGIN
  IF p_wait THEN
    PERFORM pg_advisory_xact_lock(p_lock_space, hashtext(p_group_key));
  ELSIF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN;
  END IF;
  -- The row comparisons bound the scan on both sides within the group (see dependants.ts).
  SELECT b.id INTO v_id FROM :schema.jobs b
  WHERE b.group_behind AND (b.group_key, b.id) > (p_group_key, p_after_id)
    AND (b.group_key, b.id) <= (p_group_key, 9223372036854775807)
  ORDER BY b.group_key, b.id LIMIT 1;
  IF v_id IS NULL OR :schema.group_job_waits(p_group_key, v_id) THEN
    RETURN;
  END IF;
  RETURN QUERY
    UPDATE :schema.jobs j SET group_behind = false
    WHERE j.id = (SELECT b.id FROM :schema.jobs b WHERE b.id = v_id AND b.group_behind FOR UPDATE SKIP LOCKED)
    RETURNING j.queue, j.priority, j.run_at;
END
$$;
