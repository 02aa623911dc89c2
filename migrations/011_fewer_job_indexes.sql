-- Conveyor 011: the `time` strategy's claim index only where it is used. Every waiting job had four
-- index entries on `jobs`, and the batch enqueue paid mostly for the entries of `jobs_claim_time_idx`
-- (001): they end in the job id, so every one is distinct, where a batch's entries in the kind index
-- share one `run_at` and fold into a few (docs/storage.md, "Landed as migration 011").
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.
--
-- `jobs_claim_time_idx` serves only workers with `strategy: 'time'`. The adapter now creates it on
-- demand, when a store first starts or claims with `time`; here it is dropped only where it was never
-- scanned since the statistics were last reset, so a database whose workers use `time` keeps it
-- through a rolling deploy (a dropped one is built again by the first new process that needs it).
-- `jobs_waiting_kind_idx` (007) stays: it lets an orphan check find the kinds of waiting jobs with one
-- probe per kind instead of a read of the whole backlog. `jobs_finished_at_idx` (001) stays: since 009
-- it holds no entry, so it costs an insert nothing, and it is what lets the sweep of finished rows an
-- older process left in `jobs` (every rescue pass) find them without reading the table.

DO $$
BEGIN
  IF pg_stat_get_numscans(to_regclass(':schema.jobs_claim_time_idx')) = 0 THEN
    EXECUTE format('DROP INDEX %s.jobs_claim_time_idx', ':schema');
  END IF;
END
$$;
