-- Conveyor 016: the end of a `release` group's job releases the best job set aside of each queue and
-- kind of the group, not one for the whole group.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- A claim sets a `release` job aside together with the group's other due jobs of its own queue and
-- kind (015), so a group spread over several queues or kinds has jobs set aside in each. 015 released
-- one job per end, the group's best in the `priority` strategy's order: a worker of another queue or
-- kind found none of its jobs in the claim index until that job had run and ended, or the rescue pass
-- came (up to its interval later), though nothing held the group any more (found by the model test,
-- test/reliability/store-model.test.ts: the memory store claimed the job, this one did not). Now each
-- queue and kind gets its best job back; whichever starts first holds the group, and the claims that
-- meet the others set them aside again. The index of `release` jobs set aside is ordered by queue and
-- kind first, so the release finds each queue and kind's best with one probe (a loose index scan).
--
-- Setting those others aside again must be cheap: 015's bulk marking found a queue and kind's
-- waiting jobs through `jobs_group_idx`, which holds every waiting job of the group, set aside or not,
-- so each call read the whole backlog (a group of 10 kinds with 1,000 jobs each, claimed by one
-- worker, ran at 23 jobs/s instead of 380, measured in review). The `release` jobs a call may mark
-- (not set aside, without dependencies) get an index of their own by group, queue, kind and due
-- time, so a call reads only what it marks, and a call marks every kind of the met job's queue, so
-- the kinds an end released are set aside again by one call, not one each. Not other queues: a
-- claim over several queues may still scan them, and while a job runs, a claim of another queue
-- that cannot take the best job released for it (too heavy for a worker that refuses oversized
-- jobs, not its `time` pick, past a `maxId`) would find every job behind it set aside (a second
-- review showed each case).

-- The old index is dropped first: its ACCESS EXCLUSIVE lock is then taken before any other, not
-- upgraded from the builds' SHARE lock (an upgrade deadlocks with a transaction that read `jobs` and
-- then writes it). Reads and writes of `jobs` wait for the builds (partial indexes, but each build
-- reads the whole table).

DROP INDEX :schema.jobs_group_behind_release_idx;
CREATE INDEX jobs_group_behind_release_queue_idx ON :schema.jobs (group_key, queue, kind, priority, run_at, id)
  WHERE group_behind AND group_mode = 'release';
CREATE INDEX jobs_group_release_waiting_idx ON :schema.jobs (group_key, queue, kind, run_at)
  WHERE group_mode = 'release' AND NOT group_behind AND state IN ('scheduled', 'available', 'retryable')
    AND depends_on IS NULL;

-- 015's, with the `release` bulk marking read through `jobs_group_release_waiting_idx`: the job met,
-- by its id, and the other due jobs of its queue without dependencies, of every kind (015: of its
-- kind only), by the new index.
CREATE OR REPLACE FUNCTION :schema.claim_group_behind(
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
  v_turns bigint[];
BEGIN
  IF NOT pg_try_advisory_xact_lock(p_lock_space, hashtext(p_group_key)) THEN
    RETURN false;
  END IF;
  -- Statements of their own: their snapshots are taken once the lock is held.
  SELECT b.group_mode, b.group_lock_timeout_ms, b.queue INTO v_mode, v_timeout, v_queue
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
    -- With it, the group's other due jobs of its queue without dependencies, of every kind (each end
    -- releases the best of each kind, so one call here sets aside what the last end released, not one
    -- call per kind). Not those of another queue, which this claim may yet scan, nor those not yet due
    -- or with dependencies: a release must pick one that can run.
    UPDATE :schema.jobs j SET group_behind = true
    WHERE j.id = ANY(ARRAY(
      SELECT b.id FROM :schema.jobs b
      WHERE b.id = p_job_id AND b.group_key = p_group_key AND b.group_mode = 'release'
        AND b.state IN ('scheduled', 'available', 'retryable') AND NOT b.group_behind AND b.run_at <= p_now
      FOR UPDATE SKIP LOCKED
    ) || ARRAY(
      SELECT b.id FROM :schema.jobs b
      WHERE b.group_key = p_group_key AND b.queue = v_queue AND b.run_at <= p_now
        AND b.group_mode = 'release' AND b.state IN ('scheduled', 'available', 'retryable')
        AND NOT b.group_behind AND b.depends_on IS NULL AND b.id <> ALL(v_turns) AND b.id <> p_job_id
      FOR UPDATE SKIP LOCKED
    ));
  END IF;
  RETURN false;
END
$$;

-- 015's, with the `release` part changed as above; the `fifo` part is 015's.
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
  -- The best job set aside of each queue and kind: the first in the index, then the first past the
  -- last queue and kind found, one probe each. The lower bound is a row comparison over the index's
  -- leading columns and the upper bound the group key alone, so each probe starts at the next queue
  -- and kind instead of walking the group's jobs set aside before it.
  RETURN QUERY
    WITH RECURSIVE best(id, queue, kind) AS (
      (SELECT b.id, b.queue, b.kind FROM :schema.jobs b
        WHERE b.group_behind AND b.group_mode = 'release' AND b.group_key = p_group_key
        ORDER BY b.group_key, b.queue, b.kind, b.priority, b.run_at, b.id LIMIT 1)
      UNION ALL
      SELECT n.id, n.queue, n.kind FROM best p CROSS JOIN LATERAL (
        SELECT b.id, b.queue, b.kind FROM :schema.jobs b
        WHERE b.group_behind AND b.group_mode = 'release'
          AND (b.group_key, b.queue, b.kind) > (p_group_key, p.queue, p.kind) AND b.group_key <= p_group_key
        ORDER BY b.group_key, b.queue, b.kind, b.priority, b.run_at, b.id LIMIT 1
      ) n
    )
    UPDATE :schema.jobs j SET group_behind = false
    WHERE j.id = ANY(ARRAY(
      SELECT b.id FROM :schema.jobs b WHERE b.id = ANY(ARRAY(SELECT id FROM best)) AND b.group_behind
      FOR UPDATE SKIP LOCKED
    ))
    RETURNING j.queue, j.priority, j.run_at;
END
$$;
