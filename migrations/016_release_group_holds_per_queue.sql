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

CREATE INDEX jobs_group_behind_release_queue_idx ON :schema.jobs (group_key, queue, kind, priority, run_at, id)
  WHERE group_behind AND group_mode = 'release';
DROP INDEX :schema.jobs_group_behind_release_idx;

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
