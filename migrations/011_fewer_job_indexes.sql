-- Conveyor 011: fewer index entries per waiting job. Every waiting job had four index entries on
-- `jobs`; each costs every enqueue a write, and the batch enqueue pays mostly for them.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- - The claim index INCLUDEs `kind`, so an orphan check lists the distinct kinds of waiting jobs (and
--   their due jobs) from an index-only scan of it; `jobs_waiting_kind_idx` (007) goes.
-- - `jobs_claim_time_idx` (001) serves only workers with `strategy: 'time'`. The adapter now creates
--   it on demand, when a store first starts or claims with `time`; here it is dropped only where it was
--   never scanned since the statistics were last reset, so a database whose workers use `time` keeps
--   it through a rolling deploy (a dropped one is built again by the first new process that needs it).
-- - `jobs_finished_at_idx` (001) stays: since 009 it holds no entry (finished rows live in
--   `job_history`), so it costs an insert nothing, and it is what lets the sweep of finished rows an
--   older process left in `jobs` (every rescue pass) find them without reading the table.
--
-- `jobs` is locked ACCESS EXCLUSIVE first: dropping an index needs that lock, and taking it after the
-- build's SHARE lock could deadlock with a claim that read the table before and writes it after.
-- Claims, inserts and completions of running processes wait for this migration (the build of the
-- claim index: one pass over the waiting jobs), then go on; their cached plans are made again.

LOCK TABLE :schema.jobs IN ACCESS EXCLUSIVE MODE;

CREATE INDEX jobs_claim_priority_idx_011 ON :schema.jobs (queue, priority, run_at, id) INCLUDE (kind)
  WHERE state IN ('scheduled', 'available', 'retryable');
DROP INDEX :schema.jobs_claim_priority_idx;
ALTER INDEX :schema.jobs_claim_priority_idx_011 RENAME TO jobs_claim_priority_idx;

DROP INDEX :schema.jobs_waiting_kind_idx;

DO $$
BEGIN
  IF pg_stat_get_numscans(to_regclass(':schema.jobs_claim_time_idx')) = 0 THEN
    EXECUTE format('DROP INDEX %s.jobs_claim_time_idx', ':schema');
  END IF;
END
$$;
