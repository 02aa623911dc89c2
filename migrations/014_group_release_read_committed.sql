-- Conveyor 014: a statement that ends a group's job releases the next one only under READ COMMITTED.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- release_group_behind (013) relies on each of its statements seeing what committed before it took
-- the group's lock. Under REPEATABLE READ or SERIALIZABLE (a job run in its own transaction whose
-- handler raised the level, or a database whose default is stricter) its reads use the transaction's
-- snapshot instead: it may miss a job a claim set aside meanwhile, and its update of a row changed
-- since would fail the whole statement with a serialization error (40001), failing the job's
-- transaction. There it now releases nothing; the rescue pass, which runs its release in a READ
-- COMMITTED transaction of its own (group-holds.ts), releases the job instead.
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
