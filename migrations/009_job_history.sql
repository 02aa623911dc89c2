-- Conveyor 009: finished jobs move out of `jobs` into `job_history`, range-partitioned by day of
-- `finished_at` (UTC), so claims and completions never meet retained history and retention drops a
-- day's partition instead of deleting its rows one by one.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- No lock stronger than ROW EXCLUSIVE is taken on `jobs`: workers of the previous version keep
-- claiming and completing while this runs. Their completions after this migration's snapshot leave
-- finished rows in `jobs`; the adapter reads both tables and its maintenance moves such rows here.

-- The same columns in the same order as `jobs` (a later column added to `jobs` must be added here
-- too). No identity: ids come from `jobs_id_seq`, and a row moves with its id.
CREATE TABLE :schema.job_history (LIKE :schema.jobs INCLUDING DEFAULTS)
  PARTITION BY RANGE (finished_at);
ALTER TABLE :schema.job_history ALTER COLUMN finished_at SET NOT NULL;
ALTER TABLE :schema.job_history ADD CONSTRAINT job_history_state_final
  CHECK (state IN ('succeeded', 'failed', 'cancelled'));

-- Few indexes: every one is written by every completion. A job by id (getJob, dependencies,
-- retry/delete by id, lists newest first: one probe or one backward scan per partition).
CREATE INDEX job_history_id_idx ON :schema.job_history (id);
-- A key's newest finished job (getJobsByKey, the uniqueKey filter); only keyed jobs pay.
CREATE INDEX job_history_unique_key_id_idx ON :schema.job_history (unique_key, id)
  WHERE unique_key IS NOT NULL;
-- The rows of the boundary day older than the retention cutoff (rows arrive in finished_at order,
-- so a BRIN index of a few pages finds them).
CREATE INDEX job_history_finished_at_brin ON :schema.job_history USING brin (finished_at);

-- Whether none of the jobs `p_depends_on` names is in history in a state other than succeeded (a
-- dependency that failed or was cancelled; one found nowhere was deleted or pruned and counts as met).
-- A function, not a subquery of the claim: a claim statement that named job_history would lock every
-- partition and its index on each run; this runs, and locks, only for candidates with dependencies.
-- STABLE: it reads with the calling statement's snapshot.
CREATE FUNCTION :schema.history_dependencies_met(p_depends_on bigint[])
  RETURNS boolean
  LANGUAGE plpgsql
  STABLE
AS $$
BEGIN
  RETURN NOT EXISTS (
    SELECT 1 FROM :schema.job_history h WHERE h.id = ANY(p_depends_on) AND h.state <> 'succeeded'
  );
END
$$;

-- Partitions: one per UTC day for the last 31 days up to two days ahead, everything older in one
-- `job_history_before_<first day>` partition, and a DEFAULT partition for rows outside every range
-- (a clock far ahead, or a day whose partition could not be created yet). The adapter's maintenance
-- creates the coming days and drops the days wholly past retention. Partitions are named by their
-- range so that maintenance reads it from the name.
DO $$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  oldest date := coalesce(
    (SELECT (min(finished_at) AT TIME ZONE 'UTC')::date FROM :schema.jobs WHERE finished_at IS NOT NULL),
    today);
  first_day date := greatest(least(oldest, today), today - 31);
  d date;
BEGIN
  EXECUTE format(
    'CREATE TABLE %s.%I PARTITION OF %s.job_history FOR VALUES FROM (MINVALUE) TO (%L)',
    ':schema', 'job_history_before_' || to_char(first_day, 'YYYYMMDD'), ':schema',
    (first_day::timestamp AT TIME ZONE 'UTC'));
  d := first_day;
  WHILE d <= today + 2 LOOP
    EXECUTE format(
      'CREATE TABLE %s.%I PARTITION OF %s.job_history FOR VALUES FROM (%L) TO (%L)',
      ':schema', 'job_history_' || to_char(d, 'YYYYMMDD'), ':schema',
      (d::timestamp AT TIME ZONE 'UTC'), ((d + 1)::timestamp AT TIME ZONE 'UTC'));
    d := d + 1;
  END LOOP;
END
$$;
CREATE TABLE :schema.job_history_default PARTITION OF :schema.job_history DEFAULT;

-- The finished jobs move, each row once, in one statement (deleted here, inserted there).
WITH moved AS (
  DELETE FROM :schema.jobs j WHERE j.state IN ('succeeded', 'failed', 'cancelled') RETURNING j.*
)
INSERT INTO :schema.job_history SELECT * FROM moved;
