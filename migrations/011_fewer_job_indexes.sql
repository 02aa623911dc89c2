-- Conveyor 011: the `time` strategy's claim index only where it is used. Every waiting job had four
-- index entries on `jobs`, and the batch enqueue paid mostly for the entries of `jobs_claim_time_idx`
-- (001): they end in the job id, so every one is distinct, where a batch's entries in the kind index
-- share one `run_at` and fold into a few (docs/storage.md, "Landed as migration 011").
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- `jobs_claim_time_idx` serves only workers with `strategy: 'time'`. The adapter now creates it on
-- demand, when a store first starts or claims with `time`. Here it is dropped where `jobs` is empty (a
-- new schema), or where it was never scanned and the database's statistics were not reset within the
-- last week (`pg_stat_reset` starts the counters again at zero), so a database whose workers use
-- `time` keeps it through a rolling deploy. Counters also start again after a crash, a restore or on
-- a standby promoted since (it counted none of the old primary's scans): there it may go, and the
-- first process of this version that claims by time builds it again (or, when its role does not own
-- `jobs`, fails to start with the statement for the owner; docs/postgres.md).
-- `jobs_waiting_kind_idx` (007) stays: it lets an orphan check find the kinds of waiting jobs with one
-- probe per kind instead of a read of the whole backlog. `jobs_finished_at_idx` (001) stays: since 009
-- it holds no entry, so it costs an insert nothing, and it is what lets the sweep of finished rows an
-- older process left in `jobs` (every rescue pass) find them without reading the table.

DO $$
DECLARE
  lock_timeout_before text := current_setting('lock_timeout');
BEGIN
  IF to_regclass(':schema.jobs_claim_time_idx') IS NOT NULL AND (
    NOT EXISTS (SELECT 1 FROM :schema.jobs)
    OR (
      pg_stat_get_numscans(to_regclass(':schema.jobs_claim_time_idx')) = 0
      AND coalesce(
        (SELECT d.stats_reset FROM pg_stat_database d WHERE d.datname = current_database()),
        '-infinity') < now() - interval '7 days'
    )
  ) THEN
    -- Dropping an index takes an ACCESS EXCLUSIVE lock on `jobs`, which waits for every transaction
    -- that touched the table and makes every insert, claim and completion wait behind it: at most 10 s
    -- here, then the index is kept (it only costs inserts) and the migration goes on.
    BEGIN
      PERFORM set_config('lock_timeout', '10s', true);
      EXECUTE format('DROP INDEX %s.jobs_claim_time_idx', ':schema');
    EXCEPTION WHEN lock_not_available THEN
      RAISE NOTICE 'Conveyor 011: kept %.jobs_claim_time_idx: a transaction held a lock on its table for 10 s; drop it later with DROP INDEX CONCURRENTLY if no worker claims by time.', ':schema';
    END;
    PERFORM set_config('lock_timeout', lock_timeout_before, true);
  END IF;
END
$$;
