-- Conveyor 002: process heartbeats, for the rescue of running jobs whose worker process died.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- One row per worker process (the part of a job's `attempted_by` before the first ':'). Every process
-- upserts its row every few seconds; the rescuer deletes rows silent for a day. No index besides the
-- primary key, and room left on each page, so that a heartbeat is a HOT update that writes no index.
CREATE TABLE :schema.processes (
  id text PRIMARY KEY,
  last_heartbeat_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL
) WITH (fillfactor = 50);
