-- Conveyor 005: jobs by name (unique key), finished ones included.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- A job's name is its unique key: `getJob({ key })` and the `key` filter read the holder of a key,
-- else the newest finished job that had it. The unique index of 001 covers waiting and running jobs
-- of one kind only; this one finds a key's jobs in any state and kind, newest first (`id DESC`),
-- and serves the `uniqueKey` filter of job lists. Only jobs with a key are in it.
CREATE INDEX jobs_unique_key_id_idx ON :schema.jobs (unique_key, id)
  WHERE unique_key IS NOT NULL;
