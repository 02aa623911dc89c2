-- Conveyor 015: `release` groups set their waiting jobs aside too. A `release` job may start once no
-- job of its group runs, whatever waits before it; while one runs, its group's other waiting jobs
-- stayed in the claim index (013 set aside `fifo` jobs only), and a group of 5,000 waiting jobs ran
-- at 36 jobs/s against 122 for 100 (docs/storage.md, "A large backlog in one group").
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- Now a claim also sets aside a `release` job whose group a running job without a group lock timeout
-- holds, or whose turn the same claim has just given to another job of the group without a lock
-- timeout (claim_group_turn's record; that job runs, or stays waiting and claimable, and its end
-- releases the next), and the end of a group's job releases, once no such job runs, the group's best `release`
-- job set aside in the claim order of the `priority` strategy (one: it starts and holds the group
-- again). The jobs set aside get an index per mode: `fifo` ones by id (the next after an ended job),
-- `release` ones in claim order; 013's index of both goes.

CREATE INDEX jobs_group_behind_fifo_idx ON :schema.jobs (group_key, id)
  WHERE group_behind AND group_mode = 'fifo';
CREATE INDEX jobs_group_behind_release_idx ON :schema.jobs (group_key, priority, run_at, id)
  WHERE group_behind AND group_mode = 'release';
DROP INDEX :schema.jobs_group_behind_idx;

-- Whether a `release` job of group `p_group_key` waits for an event: another job of its group runs
-- with no group lock timeout. Read with the caller's snapshot (see group_job_waits).
CREATE FUNCTION :schema.group_release_job_waits(p_group_key text, p_job_id bigint)
  RETURNS boolean
  LANGUAGE sql
  STABLE
AS $$
  SELECT EXISTS (
    SELECT 1 FROM :schema.jobs g
    WHERE g.group_key = p_group_key AND g.state = 'running' AND g.group_lock_timeout_ms IS NULL AND g.id <> p_job_id
  )
$$;

-- Replaces 013's three-argument version (the claim passes its time now): for both modes, under the
-- group's lock (tried) and with a fresh snapshot, sets job `p_job_id` aside when its mode's rule says
-- it waits for an event, and with it, in one statement, every other waiting job of its group the same
-- holder holds back, so that a claim that meets a backlog does not set it aside one row at a time:
-- for `fifo`, the group's later `fifo` jobs when this job has no lock timeout (it holds them back
-- itself); for `release`, the group's other due `release` jobs of its queue and kind without
-- dependencies (a job not yet due, of another kind or queue, or waiting for dependencies is left to
-- the claim that meets it, so that the job a release picks can run), and this one only when due.
DROP FUNCTION :schema.claim_group_behind(integer, text, bigint);
CREATE FUNCTION :schema.claim_group_behind(
  p_lock_space integer, p_group_key text, p_job_id bigint, p_now timestamptz
)
  RETURNS boolean
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
AS $$
DECLARE
  v_mode text;
  v_timeout integer;
  v_queue text;
  v_kind text;
  v_turns bigint[];
BEGIN
  IF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN false;
  END IF;
  -- Statements of their own: their snapshots are taken once the lock is held.
  SELECT b.group_mode, b.group_lock_timeout_ms, b.queue, b.kind INTO v_mode, v_timeout, v_queue, v_kind
  FROM :schema.jobs b
  WHERE b.id = p_job_id AND b.group_key = p_group_key AND b.state IN ('scheduled', 'available', 'retryable')
    AND NOT b.group_behind;
  IF v_mode = 'fifo' THEN
    IF NOT :schema.group_job_waits(p_group_key, p_job_id) THEN
      RETURN false;
    END IF;
    UPDATE :schema.jobs j SET group_behind = true
    WHERE j.id = ANY(ARRAY(
      SELECT b.id FROM :schema.jobs b
      WHERE (b.group_key, b.id) >= (p_group_key, p_job_id)
        AND (b.group_key, b.id) <= (p_group_key, CASE WHEN v_timeout IS NULL THEN 9223372036854775807 ELSE p_job_id END)
        AND b.group_key IS NOT NULL AND b.state IN ('scheduled', 'available', 'retryable') AND NOT b.group_behind
        AND b.group_mode = 'fifo'
      FOR UPDATE SKIP LOCKED
    ));
  ELSIF v_mode = 'release' THEN
    -- The jobs this claim gave the group's turn (one per queue it scans): they may be among its own
    -- candidates, so they are never set aside here.
    v_turns := ARRAY(
      SELECT m[1]::bigint FROM regexp_matches(coalesce(current_setting('conveyor.group_turns', true), ''),
        ';' || p_lock_space || ':' || hashtext(p_group_key) || ':-?[0-9]+=([0-9]+);', 'g') AS m
    );
    -- A turn counts when its job is of this group (two keys may share a hash), still waiting and
    -- due: the claim may yet take it, and if it does not, it stays claimable.
    IF p_job_id = ANY(v_turns) OR NOT :schema.group_release_job_waits(p_group_key, p_job_id) AND NOT EXISTS (
      SELECT 1 FROM :schema.jobs t
      WHERE t.id = ANY(v_turns) AND t.group_key = p_group_key AND t.group_lock_timeout_ms IS NULL
        AND t.state IN ('scheduled', 'available', 'retryable') AND NOT t.group_behind AND t.run_at <= p_now
    ) THEN
      RETURN false;
    END IF;
    -- With it, the group's other due jobs of its queue and kind without dependencies: jobs a worker
    -- claims as it claims this one, so the one a release picks first can run (a job of another kind,
    -- of a paused queue or with dependencies is left to the claim that meets it).
    UPDATE :schema.jobs j SET group_behind = true
    WHERE j.id = ANY(ARRAY(
      SELECT b.id FROM :schema.jobs b
      WHERE b.group_key = p_group_key AND b.group_key IS NOT NULL
        AND b.state IN ('scheduled', 'available', 'retryable') AND NOT b.group_behind
        AND b.group_mode = 'release' AND b.id <> ALL(v_turns) AND b.run_at <= p_now
        AND (b.id = p_job_id OR (b.queue = v_queue AND b.kind = v_kind AND b.depends_on IS NULL))
      FOR UPDATE SKIP LOCKED
    ));
  END IF;
  RETURN false;
END
$$;

-- 014's, for both modes: under the group's lock (waited for when `p_wait`, else tried) and under
-- READ COMMITTED only, releases the group's first `fifo` job set aside after `p_after_id` when
-- nothing holds it back, and the group's best `release` job set aside when no job of the group runs
-- without a lock timeout. Returns the jobs released, to be announced.
CREATE OR REPLACE FUNCTION :schema.release_group_behind(
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
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN;
  END IF;
  IF p_wait THEN
    PERFORM pg_advisory_xact_lock(p_lock_space, hashtext(p_group_key));
  ELSIF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN;
  END IF;
  -- The row comparisons bound the scan on both sides within the group (see dependants.ts).
  SELECT b.id INTO v_id FROM :schema.jobs b
  WHERE b.group_behind AND b.group_mode = 'fifo' AND (b.group_key, b.id) > (p_group_key, p_after_id)
    AND (b.group_key, b.id) <= (p_group_key, 9223372036854775807)
  ORDER BY b.group_key, b.id LIMIT 1;
  IF v_id IS NOT NULL AND NOT :schema.group_job_waits(p_group_key, v_id) THEN
    RETURN QUERY
      UPDATE :schema.jobs j SET group_behind = false
      WHERE j.id = (SELECT b.id FROM :schema.jobs b WHERE b.id = v_id AND b.group_behind FOR UPDATE SKIP LOCKED)
      RETURNING j.queue, j.priority, j.run_at;
  END IF;
  IF :schema.group_release_job_waits(p_group_key, 0) THEN
    RETURN;
  END IF;
  v_id := NULL;
  SELECT b.id INTO v_id FROM :schema.jobs b
  WHERE b.group_behind AND b.group_mode = 'release' AND b.group_key = p_group_key
  ORDER BY b.group_key, b.priority, b.run_at, b.id LIMIT 1;
  IF v_id IS NOT NULL THEN
    RETURN QUERY
      UPDATE :schema.jobs j SET group_behind = false
      WHERE j.id = (SELECT b.id FROM :schema.jobs b WHERE b.id = v_id AND b.group_behind FOR UPDATE SKIP LOCKED)
      RETURNING j.queue, j.priority, j.run_at;
  END IF;
END
$$;
