-- Conveyor 010: a claim statement takes at most one job per group (per queue it scans), decided
-- before its LIMIT.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- Same checks as 008's claim_group_turn, plus: once it granted a group's turn to a job within
-- `p_scope` (the claim passes the job's queue when it scans several), it refuses every other job of
-- that group in that scope for the rest of the transaction (a claim is one statement in its own
-- transaction). Before, two `release` jobs of a free group both passed in one claim (the advisory
-- lock is the claimer's own, and the statement does not see its own claimed rows as running), so the
-- claim dropped all but the first after its LIMIT: a group with a backlog filled the LIMIT and left
-- one job per claim. Now each refused job lets the scan go on to the next candidate. (A claim over
-- several queues keeps the group's first job in strategy order across its queues itself.)
--
-- The turns given so far are kept in a transaction-local setting (`conveyor.group_turns`:
-- `;<lock space>:<hashtext(group)>:<hashtext(scope)>=<job id>;...`): a plpgsql function has no
-- other per-statement state, and the setting is dropped when the transaction ends. The same job
-- asking again (its row re-checked after a concurrent update) is checked afresh, not refused. Two
-- groups whose keys hash alike share a turn within one claim: the second waits for the next claim
-- (it never runs beside the first, and is never lost).
CREATE FUNCTION :schema.claim_group_turn(
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

-- 008's signature, for any caller without a scope: one turn per group in the whole transaction.
CREATE OR REPLACE FUNCTION :schema.claim_group_turn(
  p_lock_space integer, p_group_key text, p_job_id bigint, p_release boolean, p_now timestamptz
)
  RETURNS boolean
  LANGUAGE sql
  VOLATILE
  COST 1000
AS $$
  SELECT :schema.claim_group_turn(p_lock_space, p_group_key, p_job_id, p_release, p_now, '')
$$;
