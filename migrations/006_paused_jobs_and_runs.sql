-- Conveyor 006: pausing single jobs, and the run count.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- A paused job still holds its unique key. The new index is built before the old one goes, so
-- there is no moment without one (the migration runs in one transaction).
CREATE UNIQUE INDEX jobs_unique_key_held_idx ON :schema.jobs (kind, unique_key)
  WHERE unique_key IS NOT NULL AND state IN ('scheduled', 'available', 'retryable', 'paused', 'running');
DROP INDEX :schema.jobs_unique_key_idx;

-- A job can be `paused` (pauseJobs): waiting, but never claimed until resumed. The claim indexes
-- (state IN scheduled, available, retryable) leave paused jobs out as they are.
ALTER TABLE :schema.jobs DROP CONSTRAINT jobs_state_valid;
-- NOT VALID: existing rows already pass it, so the table is not scanned under the ALTER's exclusive
-- lock (new and updated rows are checked all the same). The index above is built first, under a lock
-- that still lets readers in.
ALTER TABLE :schema.jobs ADD CONSTRAINT jobs_state_valid CHECK (
  state IN ('scheduled', 'available', 'retryable', 'paused', 'running', 'succeeded', 'failed', 'cancelled')
) NOT VALID;

-- Runs started, snoozed ones included (every claim adds one; a run released at shutdown gives it
-- back). Jobs stored before this migration count from 0.
ALTER TABLE :schema.jobs ADD COLUMN runs integer NOT NULL DEFAULT 0;
