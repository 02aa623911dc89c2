-- Conveyor 011: a claim statement takes at most one job per group, decided before its LIMIT.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- Same arguments and checks as 008's version, plus: once it granted a group's turn to a job, it
-- refuses every other job of that group for the rest of the transaction (a claim is one statement in
-- its own transaction). Before, two `release` jobs of a free group both passed in one claim (the
-- advisory lock is the claimer's own, and the statement does not see its own claimed rows as
-- running), so the claim dropped all but the first after its LIMIT: a group with a backlog filled the
-- LIMIT and left one job per claim. Now each refused job lets the scan go on to the next candidate.
--
-- The groups granted so far are kept in a transaction-local setting (`conveyor.group_turns`:
-- `;<lock space>:<hashtext(group)>=<job id>;...`): a plpgsql function has no other per-statement
-- state, and the setting is dropped when the transaction ends. The same job asking again (the row
-- re-checked after a concurrent update) is checked afresh, not refused. Two groups whose keys hash
-- alike share a turn within one claim: the second waits for the next claim (never runs beside the
-- first, never lost).
CREATE OR REPLACE FUNCTION :schema.claim_group_turn(
  p_lock_space integer, p_group_key text, p_job_id bigint, p_release boolean, p_now timestamptz
)
  RETURNS boolean
  LANGUAGE plpgsql
  VOLATILE
  COST 1000
AS $$
DECLARE
  v_key text := ';' || p_lock_space || ':' || hashtext(p_group_key) || '=';
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
    FROM :schema.jobs g
    WHERE g.group_key = p_group_key
      AND g.state = 'running'
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
      AND g.state IN ('scheduled', 'available', 'retryable')
      AND g.id < p_job_id
  ) THEN
    RETURN false;
  END IF;
  IF v_at = 0 THEN
    PERFORM set_config('conveyor.group_turns', v_turns || v_key || p_job_id || ';', true);
  END IF;
  RETURN true;
END
$$;
