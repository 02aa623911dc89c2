-- Conveyor 011: waiting and running jobs get narrow tables of their own, so that the job row is
-- updated in place (HOT) and claims scan a small index of small rows.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- `job_ready` holds one row per waiting job that a claim may take (states scheduled, available,
-- retryable; not paused): the claim's scan key and filters. The claim deletes it, and inserts the
-- job's `job_running` row (what the rescue and the group checks read) in the same statement. The job
-- row stays the truth: a claim takes a job only if its row is still waiting, so a ready row that a
-- process of the previous version left behind is skipped, never run twice, and the leader's repair
-- pass (see the adapter's `repairNarrowTables`) adds the ready rows such a process did not write.
--
-- Every index on `jobs` whose columns or predicate a claim, a retry, a snooze or a release changes
-- goes (state, run_at, attempt, attempted_at): those updates become HOT when the page has room,
-- hence the lower fillfactor. `jobs` holds only unfinished jobs since 009, so the unique key and group
-- indexes need no state predicate.
--
-- Lock order (the adapter keeps it so that claims and admin statements cannot deadlock): a ready row
-- before its job row; a job row before its running row.

CREATE TABLE :schema.job_ready (
  id bigint PRIMARY KEY,
  queue text NOT NULL,
  priority smallint NOT NULL,
  run_at timestamptz NOT NULL,
  kind text NOT NULL,
  weight integer NOT NULL,
  -- The job has a group or dependencies: only then does the claim read its job row before taking it.
  gated boolean NOT NULL
);
ALTER TABLE :schema.job_ready SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
-- Claiming, `priority` and `time` strategies.
CREATE INDEX job_ready_priority_idx ON :schema.job_ready (queue, priority, run_at, id);
CREATE INDEX job_ready_time_idx ON :schema.job_ready (queue, run_at, id);
-- Orphan checks: the distinct kinds of waiting jobs, then the due ones of a kind by queue.
CREATE INDEX job_ready_kind_idx ON :schema.job_ready (kind, queue, run_at);

CREATE TABLE :schema.job_running (
  id bigint PRIMARY KEY,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL,
  attempted_by text,
  timeout_ms integer NOT NULL,
  group_key text,
  group_lock_timeout_ms integer
);
ALTER TABLE :schema.job_running SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
-- Rescue, oldest first.
CREATE INDEX job_running_attempted_at_idx ON :schema.job_running (attempted_at);
-- Whether a group is held: one probe.
CREATE INDEX job_running_group_idx ON :schema.job_running (group_key) WHERE group_key IS NOT NULL;

-- Which processes write the narrow tables: NULL for a process of an earlier version (while one is
-- live, the leader repairs the narrow tables at every rescue interval).
ALTER TABLE :schema.processes ADD COLUMN storage_version integer;

INSERT INTO :schema.job_ready (id, queue, priority, run_at, kind, weight, gated)
  SELECT id, queue, priority, run_at, kind, weight, group_key IS NOT NULL OR depends_on IS NOT NULL FROM :schema.jobs
  WHERE state IN ('scheduled', 'available', 'retryable');
INSERT INTO :schema.job_running (id, attempt, attempted_at, attempted_by, timeout_ms, group_key, group_lock_timeout_ms)
  SELECT id, attempt, coalesce(attempted_at, created_at), attempted_by, timeout_ms, group_key, group_lock_timeout_ms
  FROM :schema.jobs WHERE state = 'running';

-- A unique key is held by any job in `jobs`. Finished rows a process before 009 left in `jobs` (the
-- history maintenance moves them) are left out so that the index builds whatever they hold.
CREATE UNIQUE INDEX jobs_unique_key_unfinished_idx ON :schema.jobs (kind, unique_key)
  WHERE unique_key IS NOT NULL AND finished_at IS NULL;
DROP INDEX :schema.jobs_unique_key_held_idx;
CREATE INDEX jobs_group_key_idx ON :schema.jobs (group_key, id) WHERE group_key IS NOT NULL;
DROP INDEX :schema.jobs_group_idx;
DROP INDEX :schema.jobs_group_running_idx;
DROP INDEX :schema.jobs_claim_priority_idx;
DROP INDEX :schema.jobs_claim_time_idx;
DROP INDEX :schema.jobs_running_idx;
DROP INDEX :schema.jobs_waiting_kind_idx;

-- Room on each page for the new versions of its rows (a claim and a completion's retry, snooze or
-- release each write one). Applies to pages written from now on.
ALTER TABLE :schema.jobs SET (fillfactor = 50);

-- The group checks read `job_running`: a running job holds its group until it has run for its own
-- group_lock_timeout_ms (see 010 for the rest of the function, unchanged).
CREATE OR REPLACE FUNCTION :schema.claim_group_turn(
  p_lock_space integer, p_group_key text, p_job_id bigint, p_release boolean, p_now timestamptz,
  p_scope text
)
  RETURNS boolean
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
AS $$
DECLARE
  v_key text := ';' || p_lock_space || ':' || hashtext(p_group_key) || ':' || hashtext(p_scope) || '=';
  v_turns text := coalesce(current_setting('conveyor.group_turns', true), '');
  v_at integer := position(v_key IN v_turns);
BEGIN
  IF v_at > 0
    AND split_part(substr(v_turns, v_at + length(v_key)), ';', 1) <> p_job_id::text THEN
    RETURN false;
  END IF;
  IF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN false;
  END IF;
  IF EXISTS (
    SELECT 1
    FROM :schema.job_running g
    WHERE g.group_key = p_group_key
      AND g.id <> p_job_id
      AND (g.group_lock_timeout_ms IS NULL
        OR g.attempted_at + g.group_lock_timeout_ms * interval '1 millisecond' > p_now)
  ) THEN
    RETURN false;
  END IF;
  IF NOT p_release AND EXISTS (
    SELECT 1
    FROM :schema.jobs g
    WHERE g.group_key = p_group_key
      AND g.group_key IS NOT NULL
      AND g.id < p_job_id
      AND g.state IN ('scheduled', 'available', 'retryable')
  ) THEN
    RETURN false;
  END IF;
  IF v_at = 0 THEN
    PERFORM set_config('conveyor.group_turns', v_turns || v_key || p_job_id || ';', true);
  END IF;
  RETURN true;
END
$$;

-- `TRUNCATE jobs` (tests, a user starting over) empties the narrow tables with it: a ready row left
-- without its job would block the insert of a new job with the same id. A statement trigger, so no
-- other statement pays for it.
CREATE FUNCTION :schema.truncate_narrow_tables()
  RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  TRUNCATE :schema.job_ready, :schema.job_running;
  RETURN NULL;
END
$$;
CREATE TRIGGER jobs_truncate_narrow_tables AFTER TRUNCATE ON :schema.jobs
  FOR EACH STATEMENT EXECUTE FUNCTION :schema.truncate_narrow_tables();

-- 001's signature (no mode, no scope), for any caller still using it: a fifo job's turn at now().
CREATE OR REPLACE FUNCTION :schema.claim_group_turn(p_lock_space integer, p_group_key text, p_job_id bigint)
  RETURNS boolean
  LANGUAGE sql
  VOLATILE
  COST 1000
AS $$
  SELECT :schema.claim_group_turn(p_lock_space, p_group_key, p_job_id, false, now(), '')
$$;
