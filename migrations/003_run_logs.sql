-- Conveyor 003: per-run logs kept with each job.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- What the job's last runs logged through `ctx.log`: a JSON array of `{ attempt, lines, dropped? }`,
-- oldest first, at most 10 runs (the completion statement appends a run and drops the oldest).
-- NULL while no run logged anything, so the common job stores nothing. Adding a nullable column
-- without a default only changes the catalog: no table rewrite, whatever the table's size.
ALTER TABLE :schema.jobs ADD COLUMN logs jsonb;
