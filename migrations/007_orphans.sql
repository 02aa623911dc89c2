-- Conveyor 007: orphans, due jobs of a kind that no live process registered.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- The kinds each process has handlers for, written with every heartbeat. NULL for a process that
-- does not report them (a version before this migration): while one such process is live, no job
-- counts as orphaned, since its kinds are unknown. Nullable without a default: a catalog change only.
ALTER TABLE :schema.processes ADD COLUMN kinds text[];

-- Orphan checks: the distinct kinds of waiting jobs (a skip scan, one probe per kind), then the due
-- jobs of the unregistered kinds only, by queue. Partial: finished rows are not in it.
CREATE INDEX jobs_waiting_kind_idx ON :schema.jobs (kind, queue, run_at)
  WHERE state IN ('scheduled', 'available', 'retryable');
