-- Conveyor 004: schedules that start at a given time, and schedules that run after another one.
-- `:schema` is replaced by the quoted schema name when the migration runs; nothing else is substituted.

-- No tick before this instant (NULL: the schedule starts at once). Re-registering a schedule with
-- another start recomputes its next run time, as a new expression does.
ALTER TABLE :schema.schedules ADD COLUMN start_at timestamptz;

-- The schedule this one runs after, by name (NULL: it runs on its own expression). Not a foreign
-- key: the other schedule may be registered later, or removed; this one then waits.
ALTER TABLE :schema.schedules ADD COLUMN after_schedule text;

-- The chained schedules, read by every scheduler pass with the due ones.
CREATE INDEX schedules_after_idx ON :schema.schedules (after_schedule)
  WHERE after_schedule IS NOT NULL;
